import CPodgateABI
import PodgateModel

// The ONLY place that converts between the C structs of podgate_abi.h and
// PodgateModel values. Encoders cannot fail (the model's values are always
// representable); decoders throw ABIDecodingError naming the struct and
// field when the kernel holds a number the model has no value for.

/// A map entry or event the kernel holds that the model cannot represent.
public struct ABIDecodingError: Error, Hashable, Sendable, CustomStringConvertible {
    public var structure: String
    public var field: String
    public var value: UInt64
    public var description: String { "\(structure).\(field): unexpected value \(value)" }
}

// MARK: - addresses

typealias AddressBytes = (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                          UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8)

enum ABIConversion {
    static func bytes(_ address: IPAddress) -> AddressBytes {
        var tuple: AddressBytes = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        let source = address.bytes
        withUnsafeMutableBytes(of: &tuple) { raw in raw.copyBytes(from: source) }
        return tuple
    }

    static func address(_ tuple: AddressBytes) -> IPAddress {
        withUnsafeBytes(of: tuple) { IPAddress(bytes: Array($0)) }
    }

    static func defaultPolicyNumber(_ policy: DefaultInboundPolicy) -> UInt32 {
        switch policy {
        case .allUnauthenticated: PODGATE_DEFAULT_ALL_UNAUTHENTICATED.rawValue
        case .clusterUnauthenticated: PODGATE_DEFAULT_CLUSTER_UNAUTHENTICATED.rawValue
        case .allAuthenticated: PODGATE_DEFAULT_ALL_AUTHENTICATED.rawValue
        case .clusterAuthenticated: PODGATE_DEFAULT_CLUSTER_AUTHENTICATED.rawValue
        case .deny: PODGATE_DEFAULT_DENY.rawValue
        case .audit: PODGATE_DEFAULT_AUDIT.rawValue
        }
    }

    static func defaultPolicy(_ number: UInt32, in structure: String) throws -> DefaultInboundPolicy {
        switch number {
        case PODGATE_DEFAULT_ALL_UNAUTHENTICATED.rawValue: .allUnauthenticated
        case PODGATE_DEFAULT_CLUSTER_UNAUTHENTICATED.rawValue: .clusterUnauthenticated
        case PODGATE_DEFAULT_ALL_AUTHENTICATED.rawValue: .allAuthenticated
        case PODGATE_DEFAULT_CLUSTER_AUTHENTICATED.rawValue: .clusterAuthenticated
        case PODGATE_DEFAULT_DENY.rawValue: .deny
        case PODGATE_DEFAULT_AUDIT.rawValue: .audit
        default: throw ABIDecodingError(structure: structure, field: "default_policy", value: UInt64(number))
        }
    }

    static func transport(_ number: UInt8, in structure: String) throws -> TransportProtocol {
        guard let transport = TransportProtocol.allCases.first(where: { $0.number == number }) else {
            throw ABIDecodingError(structure: structure, field: "protocol", value: UInt64(number))
        }
        return transport
    }

    /// PODGATE_COUNTER_DECISION(where, verdict, reason), through the header's inline twin.
    static func decisionCounterIndex(_ location: DatapathEvent.Location, _ verdict: DatapathEvent.Verdict,
                                     _ reason: DatapathEvent.Reason) -> UInt32 {
        podgate_counter_decision(UInt32(location.rawValue), UInt32(verdict.rawValue), UInt32(reason.rawValue))
    }
}

// MARK: - endpoints: u64 cgroup id -> podgate_endpoint

extension podgate_endpoint {
    init(_ value: EndpointValue) {
        var flags: UInt32 = 0
        if value.inCluster4 { flags |= UInt32(PODGATE_EP_F_IN_CLUSTER4) }
        if value.inCluster6 { flags |= UInt32(PODGATE_EP_F_IN_CLUSTER6) }
        let zero: AddressBytes = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var addr4 = zero, addr6 = zero
        if let address = value.address4 { addr4 = ABIConversion.bytes(address); flags |= UInt32(PODGATE_EP_F_ADDR4) }
        if let address = value.address6 { addr6 = ABIConversion.bytes(address); flags |= UInt32(PODGATE_EP_F_ADDR6) }
        self.init(identity: value.identity.rawValue, target_class: value.targetClass.rawValue, pod_id: value.podID,
                  default_policy: ABIConversion.defaultPolicyNumber(value.defaultPolicy),
                  cidr_class4: value.cidrClass4.rawValue, cidr_class6: value.cidrClass6.rawValue, flags: flags,
                  namespace_class: value.namespaceClass.rawValue,
                  addr4: addr4, addr6: addr6)
    }
}

extension EndpointValue {
    init(_ c: podgate_endpoint) throws {
        self.init(identity: IdentityID(c.identity), targetClass: TargetClassID(c.target_class), podID: c.pod_id,
                  defaultPolicy: try ABIConversion.defaultPolicy(c.default_policy, in: "podgate_endpoint"),
                  cidrClass4: IdentityID(c.cidr_class4), cidrClass6: IdentityID(c.cidr_class6),
                  inCluster4: c.flags & UInt32(PODGATE_EP_F_IN_CLUSTER4) != 0,
                  inCluster6: c.flags & UInt32(PODGATE_EP_F_IN_CLUSTER6) != 0,
                  address4: c.flags & UInt32(PODGATE_EP_F_ADDR4) != 0 ? ABIConversion.address(c.addr4) : nil,
                  address6: c.flags & UInt32(PODGATE_EP_F_ADDR6) != 0 ? ABIConversion.address(c.addr6) : nil,
                  namespaceClass: IdentityID(c.namespace_class))
    }
}

// MARK: - ipcache: podgate_addr -> podgate_addr_info

extension podgate_addr {
    init(_ address: IPAddress) { self.init(addr: ABIConversion.bytes(address)) }
}

extension IPAddress {
    init(_ c: podgate_addr) { self = ABIConversion.address(c.addr) }
}

extension podgate_addr_info {
    init(_ value: AddressValue) {
        let flags: UInt32 = switch value.kind {
        case .pod: UInt32(PODGATE_ADDR_F_POD)
        case .host: UInt32(PODGATE_ADDR_F_HOST)
        case .remoteNode: UInt32(PODGATE_ADDR_F_REMOTE_NODE)
        }
        self.init(identity: value.identity.rawValue, target_class: value.targetClass?.rawValue ?? 0,
                  pod_id: value.kind == .pod ? value.podID : 0,
                  default_policy: value.defaultPolicy.map(ABIConversion.defaultPolicyNumber) ?? 0,
                  flags: flags, namespace_class: value.kind == .pod ? value.namespaceClass.rawValue : 0)
    }
}

extension AddressValue {
    init(_ c: podgate_addr_info) throws {
        let kind: Kind
        switch c.flags {
        case UInt32(PODGATE_ADDR_F_POD): kind = .pod
        case UInt32(PODGATE_ADDR_F_HOST): kind = .host
        case UInt32(PODGATE_ADDR_F_REMOTE_NODE): kind = .remoteNode
        default: throw ABIDecodingError(structure: "podgate_addr_info", field: "flags", value: UInt64(c.flags))
        }
        guard kind == .pod else {
            self.init(kind: kind, identity: IdentityID(c.identity))
            return
        }
        self.init(kind: .pod, identity: IdentityID(c.identity), targetClass: TargetClassID(c.target_class),
                  podID: c.pod_id, defaultPolicy: try ABIConversion.defaultPolicy(c.default_policy, in: "podgate_addr_info"),
                  namespaceClass: IdentityID(c.namespace_class))
    }
}

// MARK: - cidrs: podgate_lpm_addr_key -> podgate_cidr_info

extension podgate_lpm_addr_key {
    init(_ cidr: CIDR) {
        self.init(prefixlen: UInt32(cidr.prefixLength), addr: ABIConversion.bytes(cidr.address))
    }
}

extension CIDR {
    init(_ c: podgate_lpm_addr_key) throws {
        guard c.prefixlen <= UInt32(PODGATE_LPM_ADDR_BITS) else {
            throw ABIDecodingError(structure: "podgate_lpm_addr_key", field: "prefixlen", value: UInt64(c.prefixlen))
        }
        self.init(address: ABIConversion.address(c.addr), prefixLength: Int(c.prefixlen))
    }
}

extension podgate_cidr_info {
    init(_ value: CIDRValue) {
        self.init(cidr_class: value.cidrClass.rawValue, flags: value.inCluster ? UInt32(PODGATE_CIDR_F_CLUSTER) : 0)
    }
}

extension CIDRValue {
    init(_ c: podgate_cidr_info) {
        self.init(cidrClass: IdentityID(c.cidr_class), inCluster: c.flags & UInt32(PODGATE_CIDR_F_CLUSTER) != 0)
    }
}

// MARK: - policy: podgate_policy_key -> podgate_policy_value

extension podgate_policy_key {
    init(_ key: PolicyKey) {
        self.init(prefixlen: UInt32(key.prefixLength), target_class: key.targetClass.rawValue, source: key.source.rawValue,
                  protocol: key.transport?.number ?? 0, pad: 0, port: key.port.bigEndian)
    }
}

extension PolicyKey {
    init(_ c: podgate_policy_key) throws {
        let target = TargetClassID(c.target_class)
        let source = IdentityID(c.source)
        switch c.prefixlen {
        case UInt32(PODGATE_POLICY_PREFIX_ALL):
            self.init(targetClass: target, source: source, transport: nil)
        case UInt32(PODGATE_POLICY_PREFIX_PROTOCOL)...UInt32(PODGATE_POLICY_KEY_BITS):
            let transport = try ABIConversion.transport(c.protocol, in: "podgate_policy_key")
            let port = UInt32(PODGATE_POLICY_PREFIX_PORT)
            let bits = c.prefixlen >= port ? Int(c.prefixlen - port) : 0
            self.init(targetClass: target, source: source, transport: transport, port: UInt16(bigEndian: c.port),
                      portPrefixBits: bits)
        default:
            throw ABIDecodingError(structure: "podgate_policy_key", field: "prefixlen", value: UInt64(c.prefixlen))
        }
    }
}

extension podgate_policy_value {
    init(_ value: PolicyValue) { self.init(policy_index: value.policyIndex, flags: 0, hits: 0) }
}

extension PolicyValue {
    init(_ c: podgate_policy_value) { self.init(policyIndex: c.policy_index) }
}

// MARK: - config

extension podgate_config {
    init(_ config: DatapathConfig) {
        var flags: UInt32 = 0
        if config.allowFromHost { flags |= UInt32(PODGATE_CFG_F_ALLOW_FROM_HOST) }
        if config.denyUnknownPods { flags |= UInt32(PODGATE_CFG_F_UNKNOWN_POD_DENY) }
        self.init(abi_version: UInt32(PODGATE_ABI_VERSION), flags: flags, node_id: config.nodeID, pad: 0)
    }
}

extension DatapathConfig {
    /// nil while the agent has not configured the datapath (abi_version 0).
    init?(_ c: podgate_config) {
        guard c.abi_version != 0 else { return nil }
        self.init(allowFromHost: c.flags & UInt32(PODGATE_CFG_F_ALLOW_FROM_HOST) != 0,
                  denyUnknownPods: c.flags & UInt32(PODGATE_CFG_F_UNKNOWN_POD_DENY) != 0, nodeID: c.node_id)
    }
}

// MARK: - events

extension DatapathEvent {
    init(_ c: podgate_event) throws {
        guard let location = Location(rawValue: c.where) else {
            throw ABIDecodingError(structure: "podgate_event", field: "where", value: UInt64(c.where))
        }
        guard let verdict = Verdict(rawValue: c.verdict) else {
            throw ABIDecodingError(structure: "podgate_event", field: "verdict", value: UInt64(c.verdict))
        }
        guard let reason = Reason(rawValue: c.reason) else {
            throw ABIDecodingError(structure: "podgate_event", field: "reason", value: UInt64(c.reason))
        }
        let command = withUnsafeBytes(of: c.comm) { raw in
            String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
        }
        self.init(timestampNanoseconds: c.timestamp_ns, cgroup: CgroupID(c.cgroup_id), location: location,
                  verdict: verdict, reason: reason, transportNumber: c.protocol,
                  source: ABIConversion.address(c.src_addr), sourcePort: c.src_port,
                  destination: ABIConversion.address(c.dst_addr), destinationPort: c.dst_port,
                  sourceIdentity: IdentityID(c.src_identity), destinationIdentity: IdentityID(c.dst_identity),
                  targetClass: TargetClassID(c.target_class), policyIndex: c.policy_index,
                  sourcePodID: c.src_pod_id, destinationPodID: c.dst_pod_id,
                  pid: c.pid == 0 ? nil : Int32(bitPattern: c.pid), command: command.isEmpty ? nil : command)
    }
}

extension podgate_event {
    /// The inverse of DatapathEvent.init(_:), for byte round-trip tests.
    init(_ e: DatapathEvent) {
        self.init()
        timestamp_ns = e.timestampNanoseconds
        cgroup_id = e.cgroup.rawValue
        src_addr = ABIConversion.bytes(e.source)
        dst_addr = ABIConversion.bytes(e.destination)
        src_port = e.sourcePort
        dst_port = e.destinationPort
        self.where = e.location.rawValue
        verdict = e.verdict.rawValue
        reason = e.reason.rawValue
        self.protocol = e.transportNumber
        src_identity = e.sourceIdentity.rawValue
        dst_identity = e.destinationIdentity.rawValue
        target_class = e.targetClass.rawValue
        policy_index = e.policyIndex
        src_pod_id = e.sourcePodID
        dst_pod_id = e.destinationPodID
        pid = UInt32(bitPattern: e.pid ?? 0)
        withUnsafeMutableBytes(of: &comm) { raw in
            raw.copyBytes(from: Array((e.command ?? "").utf8.prefix(raw.count - 1)))
        }
    }
}
