/// The contents of the BPF maps as plain Swift values. The compiler produces a
/// `DesiredState`; the datapath converts each entry to the C structs of
/// podgate_abi.h in exactly one file (PodgateDatapath/ABIConversion.swift).

internal import CPodgateABI // the policy key's prefix lengths, never a copy

public struct CgroupID: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var rawValue: UInt64
    public init(_ rawValue: UInt64) { self.rawValue = rawValue }
    public var description: String { String(rawValue) }
    public static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }
}

/// A source identity, a namespace class, a CIDR class, or one of the reserved numbers.
/// The numbering mirrors `enum podgate_identity`; a test checks the two agree.
public struct IdentityID: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var rawValue: UInt32
    public init(_ rawValue: UInt32) { self.rawValue = rawValue }

    public static let none = IdentityID(0)
    public static let host = IdentityID(1)
    public static let world = IdentityID(2)
    public static let remoteNode = IdentityID(3)
    public static let unknownPod = IdentityID(4)
    /// In policy keys only: every pod identity (a source "every pod of the cluster").
    public static let allPods = IdentityID(5)
    public static let firstPod: UInt32 = 256
    /// Namespace classes: in policy keys, "every pod of this namespace".
    public static let firstNamespace: UInt32 = 0x00F0_0000
    public static let firstCIDR: UInt32 = 0x0100_0000

    public var isPod: Bool { rawValue >= Self.firstPod && rawValue < Self.firstNamespace }
    public var isNamespaceClass: Bool { rawValue >= Self.firstNamespace && rawValue < Self.firstCIDR }
    public var isCIDRClass: Bool { rawValue >= Self.firstCIDR }
    public var description: String { String(rawValue) }
    public static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }
}

/// A policy target class: pods with the same identity, the same container
/// ports and the same default inbound policy share one.
public struct TargetClassID: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var rawValue: UInt32
    public init(_ rawValue: UInt32) { self.rawValue = rawValue }
    public var description: String { String(rawValue) }
    public static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }
}

public struct EndpointValue: Hashable, Sendable {
    public var identity: IdentityID
    public var targetClass: TargetClassID
    public var podID: UInt32
    public var defaultPolicy: DefaultInboundPolicy
    public var cidrClass4: IdentityID       // .none when the pod has no IPv4 address in any class
    public var cidrClass6: IdentityID
    public var inCluster4: Bool
    public var inCluster6: Bool
    /// The pod's own addresses: the only sources it may send from (anti-spoofing).
    public var address4: IPAddress?
    public var address6: IPAddress?
    /// Its namespace's class (a source class of policy keys); .none when not a pod identity.
    public var namespaceClass: IdentityID

    public init(identity: IdentityID, targetClass: TargetClassID, podID: UInt32, defaultPolicy: DefaultInboundPolicy,
                cidrClass4: IdentityID = .none, cidrClass6: IdentityID = .none, inCluster4: Bool = false, inCluster6: Bool = false,
                address4: IPAddress? = nil, address6: IPAddress? = nil, namespaceClass: IdentityID = .none) {
        self.identity = identity
        self.namespaceClass = namespaceClass
        self.targetClass = targetClass
        self.podID = podID
        self.defaultPolicy = defaultPolicy
        self.cidrClass4 = cidrClass4
        self.cidrClass6 = cidrClass6
        self.inCluster4 = inCluster4
        self.inCluster6 = inCluster6
        self.address4 = address4
        self.address6 = address6
    }
}

public struct AddressValue: Hashable, Sendable {
    public enum Kind: Hashable, Sendable { case pod, host, remoteNode }
    public var kind: Kind
    public var identity: IdentityID
    public var targetClass: TargetClassID?   // pods only
    public var podID: UInt32                 // pods only, else 0
    public var defaultPolicy: DefaultInboundPolicy?  // pods only
    /// The pod's namespace class (a source class of policy keys); .none when not a pod.
    public var namespaceClass: IdentityID

    public init(kind: Kind, identity: IdentityID, targetClass: TargetClassID? = nil, podID: UInt32 = 0,
                defaultPolicy: DefaultInboundPolicy? = nil, namespaceClass: IdentityID = .none) {
        self.kind = kind
        self.namespaceClass = namespaceClass
        self.identity = identity
        self.targetClass = targetClass
        self.podID = podID
        self.defaultPolicy = defaultPolicy
    }
}

public struct CIDRValue: Hashable, Sendable {
    public var cidrClass: IdentityID
    public var inCluster: Bool
    public init(cidrClass: IdentityID, inCluster: Bool) { self.cidrClass = cidrClass; self.inCluster = inCluster }
}

/// A policy map key. `transport == nil`: every protocol and port
/// (PODGATE_POLICY_PREFIX_ALL); `portPrefixBits == 0`: every port of
/// `transport` (PODGATE_POLICY_PREFIX_PROTOCOL); otherwise the first
/// `portPrefixBits` bits of `port` (PODGATE_POLICY_PREFIX_PORT + bits).
public struct PolicyKey: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var targetClass: TargetClassID
    public var source: IdentityID            // .none: "a policy covers this port"
    public var transport: TransportProtocol?
    public var port: UInt16                  // host order here; the datapath stores it big-endian
    public var portPrefixBits: Int           // 0...16

    public init(targetClass: TargetClassID, source: IdentityID, transport: TransportProtocol?, port: UInt16 = 0, portPrefixBits: Int = 0) {
        self.targetClass = targetClass
        self.source = source
        self.transport = transport
        self.portPrefixBits = transport == nil ? 0 : portPrefixBits
        let mask: UInt16 = self.portPrefixBits == 0 ? 0 : ~0 << UInt16(16 - self.portPrefixBits)
        self.port = port & mask
    }

    /// The LPM prefix length of podgate_policy_key (podgate_abi.h's numbers).
    public var prefixLength: Int {
        if transport == nil { return Int(PODGATE_POLICY_PREFIX_ALL) }
        return portPrefixBits == 0 ? Int(PODGATE_POLICY_PREFIX_PROTOCOL) : Int(PODGATE_POLICY_PREFIX_PORT) + portPrefixBits
    }

    public var portRange: ClosedRange<Int> {
        let low = Int(port)
        return low...(low + (1 << (16 - portPrefixBits)) - 1)
    }

    public var description: String {
        let ports = transport == nil ? "any" : "\(transport!.rawValue)/\(portRange.count == 1 ? "\(port)" : "\(portRange.lowerBound)-\(portRange.upperBound)")"
        return "class \(targetClass) <- \(source == .none ? "(covered)" : source.description) \(ports)"
    }

    public static func < (a: Self, b: Self) -> Bool {
        (a.targetClass, a.source, a.transport?.number ?? 0, a.port, a.portPrefixBits) <
            (b.targetClass, b.source, b.transport?.number ?? 0, b.port, b.portPrefixBits)
    }
}

public struct PolicyValue: Hashable, Sendable {
    /// The agent's number for one policy that put this entry here (see `DesiredState.policyNames`).
    public var policyIndex: UInt32
    public init(policyIndex: UInt32) { self.policyIndex = policyIndex }
}

public struct DatapathConfig: Hashable, Sendable {
    public var allowFromHost: Bool
    public var denyUnknownPods: Bool
    public var nodeID: UInt32
    public init(allowFromHost: Bool, denyUnknownPods: Bool, nodeID: UInt32 = 0) {
        self.allowFromHost = allowFromHost
        self.denyUnknownPods = denyUnknownPods
        self.nodeID = nodeID
    }
}

/// Everything the kernel should hold.
public struct DesiredState: Hashable, Sendable {
    public var config: DatapathConfig
    public var endpoints: [CgroupID: EndpointValue]
    public var addresses: [IPAddress: AddressValue]
    public var cidrs: [CIDR: CIDRValue]
    public var policy: [PolicyKey: PolicyValue]

    public init(config: DatapathConfig, endpoints: [CgroupID: EndpointValue] = [:], addresses: [IPAddress: AddressValue] = [:],
                cidrs: [CIDR: CIDRValue] = [:], policy: [PolicyKey: PolicyValue] = [:]) {
        self.config = config
        self.endpoints = endpoints
        self.addresses = addresses
        self.cidrs = cidrs
        self.policy = policy
    }
}

/// One write to one map. A diff is an ordered list of these: every update
/// (policy first, then the entries that point at it) before any delete, so an
/// update never drops allowed traffic.
public enum MapOperation: Hashable, Sendable {
    case setConfig(DatapathConfig)
    case updateCIDR(CIDR, CIDRValue)
    case updatePolicy(PolicyKey, PolicyValue)
    case updateAddress(IPAddress, AddressValue)
    case updateEndpoint(CgroupID, EndpointValue)
    case deleteEndpoint(CgroupID)
    case deleteAddress(IPAddress)
    case deletePolicy(PolicyKey)
    case deleteCIDR(CIDR)
}
