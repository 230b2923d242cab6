import PodgateCompiler
import CPodgateABI
import PodgateModel
import Testing
@testable import PodgateDatapath

/// The C structs as Swift imports them must have the layout the BPF side
/// compiles (podgate_abi.h asserts the sizes on the C side too).
@Suite struct ABILayoutTests {
    @Test func structSizes() {
        #expect(MemoryLayout<podgate_endpoint>.size == 64)
        #expect(MemoryLayout<podgate_report_key>.size == 40)
        #expect(MemoryLayout<podgate_addr>.size == 16)
        #expect(MemoryLayout<podgate_addr_info>.size == 24)
        #expect(MemoryLayout<podgate_lpm_addr_key>.size == 20)
        #expect(MemoryLayout<podgate_cidr_info>.size == 8)
        #expect(MemoryLayout<podgate_policy_key>.size == 16)
        #expect(MemoryLayout<podgate_policy_value>.size == 16)
        #expect(MemoryLayout<podgate_peer>.size == 20)
        #expect(MemoryLayout<podgate_peers>.size == 2592)
        #expect(MemoryLayout<podgate_config>.size == 16)
        #expect(MemoryLayout<podgate_event>.size == 104)
    }

    @Test func fieldOffsets() {
        #expect(MemoryLayout<podgate_endpoint>.offset(of: \.default_policy) == 12)
        #expect(MemoryLayout<podgate_endpoint>.offset(of: \.flags) == 24)
        #expect(MemoryLayout<podgate_endpoint>.offset(of: \.addr4) == 32)
        #expect(MemoryLayout<podgate_endpoint>.offset(of: \.addr6) == 48)
        #expect(MemoryLayout<podgate_addr_info>.offset(of: \.flags) == 16)
        #expect(MemoryLayout<podgate_lpm_addr_key>.offset(of: \.addr) == 4)
        #expect(MemoryLayout<podgate_policy_key>.offset(of: \.target_class) == 4)
        #expect(MemoryLayout<podgate_policy_key>.offset(of: \.source) == 8)
        #expect(MemoryLayout<podgate_policy_key>.offset(of: \.protocol) == 12)
        #expect(MemoryLayout<podgate_policy_key>.offset(of: \.port) == 14)
        #expect(MemoryLayout<podgate_policy_value>.offset(of: \.hits) == 8)
        #expect(MemoryLayout<podgate_peer>.offset(of: \.port) == 16)
        #expect(MemoryLayout<podgate_peer>.offset(of: \.flags) == 18)
        #expect(MemoryLayout<podgate_peers>.offset(of: \.next) == 2560)
        #expect(MemoryLayout<podgate_event>.offset(of: \.src_addr) == 16)
        #expect(MemoryLayout<podgate_event>.offset(of: \.dst_addr) == 32)
        #expect(MemoryLayout<podgate_event>.offset(of: \.src_port) == 48)
        #expect(MemoryLayout<podgate_event>.offset(of: \.where) == 52)
        #expect(MemoryLayout<podgate_event>.offset(of: \.src_identity) == 56)
        #expect(MemoryLayout<podgate_event>.offset(of: \.pid) == 80)
        #expect(MemoryLayout<podgate_event>.offset(of: \.comm) == 88)
    }

    @Test func reservedNumbersMatchTheHeader() {
        #expect(IdentityID.none.rawValue == PODGATE_ID_NONE.rawValue)
        #expect(IdentityID.host.rawValue == PODGATE_ID_HOST.rawValue)
        #expect(IdentityID.world.rawValue == PODGATE_ID_WORLD.rawValue)
        #expect(IdentityID.remoteNode.rawValue == PODGATE_ID_REMOTE_NODE.rawValue)
        #expect(IdentityID.unknownPod.rawValue == PODGATE_ID_UNKNOWN_POD.rawValue)
        #expect(IdentityID.firstPod == PODGATE_ID_FIRST_POD.rawValue)
        #expect(IdentityID.firstCIDR == PODGATE_ID_FIRST_CIDR.rawValue)
        #expect(IdentityID.allPods.rawValue == PODGATE_ID_ALL_PODS.rawValue)
        #expect(IdentityID.firstNamespace == PODGATE_ID_FIRST_NAMESPACE.rawValue)

        #expect(DatapathEvent.Location.server.rawValue == UInt8(PODGATE_WHERE_SERVER.rawValue))
        #expect(DatapathEvent.Location.client.rawValue == UInt8(PODGATE_WHERE_CLIENT.rawValue))
        #expect(DatapathEvent.Verdict.allowed.rawValue == UInt8(PODGATE_VERDICT_ALLOWED.rawValue))
        #expect(DatapathEvent.Verdict.denied.rawValue == UInt8(PODGATE_VERDICT_DENIED.rawValue))
        #expect(DatapathEvent.Verdict.audit.rawValue == UInt8(PODGATE_VERDICT_AUDIT.rawValue))
        #expect(DatapathEvent.Verdict.revoked.rawValue == UInt8(PODGATE_VERDICT_REVOKED.rawValue))
        let reasons: [(DatapathEvent.Reason, podgate_reason)] = [
            (.none, PODGATE_REASON_NONE), (.defaultDeny, PODGATE_REASON_DEFAULT_DENY),
            (.notAuthorized, PODGATE_REASON_NOT_AUTHORIZED), (.notCluster, PODGATE_REASON_NOT_CLUSTER),
            (.notAuthenticated, PODGATE_REASON_NOT_AUTHENTICATED), (.unknownPod, PODGATE_REASON_UNKNOWN_POD),
            (.spoofedSource, PODGATE_REASON_SPOOFED_SOURCE),
        ]
        for (swift, c) in reasons { #expect(UInt32(swift.rawValue) == c.rawValue, "\(swift)") }
        #expect(DatapathEvent.Reason.allCases.count == reasons.count)
        #expect(DatapathEvent.Reason.allCases.allSatisfy { UInt32($0.rawValue) < PODGATE_REASON_MAX.rawValue })
    }

    @Test func decisionCounterIndexFollowsTheMacro() {
        // ((where * 4) + verdict) * PODGATE_REASON_MAX + reason, below the single counters.
        #expect(ABIConversion.decisionCounterIndex(.server, .allowed, .none) == 0)
        #expect(ABIConversion.decisionCounterIndex(.server, .denied, .defaultDeny) == 9)
        #expect(ABIConversion.decisionCounterIndex(.client, .denied, .defaultDeny) == 41)
        #expect(ABIConversion.decisionCounterIndex(.client, .audit, .spoofedSource) < PODGATE_COUNTER_EVENTS_LOST.rawValue)
        #expect(PODGATE_COUNTER_REPLIES_PASSED.rawValue < UInt32(PODGATE_COUNTERS_MAX))
    }
}

/// model value -> C struct -> bytes -> C struct -> model value, for every entry kind.
@Suite struct ABIRoundTripTests {
    func bytes<T>(_ value: T) -> [UInt8] { withUnsafeBytes(of: value) { Array($0) } }
    func load<T: BitwiseCopyable>(_ bytes: [UInt8], as type: T.Type) -> T {
        bytes.withUnsafeBytes { $0.loadUnaligned(as: T.self) }
    }

    @Test func endpoint() throws {
        for policy in DefaultInboundPolicy.allCases {
            let value = EndpointValue(identity: IdentityID(300), targetClass: TargetClassID(9), podID: 12, defaultPolicy: policy,
                                      cidrClass4: IdentityID(0x0100_0004), cidrClass6: .none, inCluster4: true, inCluster6: false)
            let raw = bytes(podgate_endpoint(value))
            #expect(raw[28..<32].allSatisfy { $0 == 0 }, "no namespace class: zero")
            #expect(try EndpointValue(load(raw, as: podgate_endpoint.self)) == value)
        }
        // The pod's own addresses (anti-spoofing), IPv4 in the mapped form.
        let owned = EndpointValue(identity: IdentityID(300), targetClass: TargetClassID(9), podID: 12, defaultPolicy: .deny,
                                  address4: IPAddress("10.1.2.3"), address6: IPAddress("fd00::7"))
        let raw = bytes(podgate_endpoint(owned))
        #expect(Array(raw[32..<48]) == [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF, 10, 1, 2, 3])
        #expect(raw[63] == 7)
        #expect(load(raw, as: podgate_endpoint.self).flags == UInt32(PODGATE_EP_F_ADDR4 | PODGATE_EP_F_ADDR6))
        #expect(try EndpointValue(load(raw, as: podgate_endpoint.self)) == owned)
        let v4Only = EndpointValue(identity: IdentityID(300), targetClass: TargetClassID(9), podID: 12, defaultPolicy: .deny,
                                   address4: IPAddress("10.1.2.3"))
        #expect(try EndpointValue(load(bytes(podgate_endpoint(v4Only)), as: podgate_endpoint.self)) == v4Only)
        // Its namespace class (ABI 4), host order after flags.
        var classed = v4Only
        classed.namespaceClass = IdentityID(0x00F0_0007)
        let classedRaw = bytes(podgate_endpoint(classed))
        #expect(Array(classedRaw[28..<32]) == [7, 0, 0xF0, 0])
        #expect(try EndpointValue(load(classedRaw, as: podgate_endpoint.self)) == classed)
    }

    @Test func addressAndAddressInfo() throws {
        let v4 = try #require(IPAddress("10.1.2.3"))
        let raw = bytes(podgate_addr(v4))
        #expect(raw == [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF, 10, 1, 2, 3])
        #expect(IPAddress(load(raw, as: podgate_addr.self)) == v4)
        let v6 = try #require(IPAddress("fd00::1"))
        #expect(IPAddress(load(bytes(podgate_addr(v6)), as: podgate_addr.self)) == v6)

        let values = [
            AddressValue(kind: .pod, identity: IdentityID(301), targetClass: TargetClassID(8), podID: 2, defaultPolicy: .audit),
            AddressValue(kind: .pod, identity: IdentityID(301), targetClass: TargetClassID(8), podID: 2, defaultPolicy: .deny,
                         namespaceClass: IdentityID(0x00F0_0003)),
            AddressValue(kind: .host, identity: .host),
            AddressValue(kind: .remoteNode, identity: .remoteNode),
        ]
        for value in values {
            #expect(try AddressValue(load(bytes(podgate_addr_info(value)), as: podgate_addr_info.self)) == value)
        }
        // Only a pod carries a class: a node address never gets one into the map.
        let forged = AddressValue(kind: .remoteNode, identity: .remoteNode, namespaceClass: IdentityID(0x00F0_0003))
        #expect(podgate_addr_info(forged).namespace_class == 0)
    }

    @Test func cidr() throws {
        for text in ["10.0.0.0/8", "0.0.0.0/0", "192.168.1.7/32", "fd00::/64", "::/0"] {
            let cidr = try #require(CIDR(text))
            let key = podgate_lpm_addr_key(cidr)
            #expect(key.prefixlen == UInt32(cidr.prefixLength))
            #expect(try CIDR(load(bytes(key), as: podgate_lpm_addr_key.self)) == cidr)
        }
        #expect(podgate_lpm_addr_key(CIDR("10.0.0.0/8")!).prefixlen == 104)
        let value = CIDRValue(cidrClass: IdentityID(0x0100_0009), inCluster: true)
        #expect(CIDRValue(load(bytes(podgate_cidr_info(value)), as: podgate_cidr_info.self)) == value)
    }

    @Test func policyKeyAndValue() throws {
        let keys = [
            PolicyKey(targetClass: TargetClassID(8), source: IdentityID(300), transport: nil),
            PolicyKey(targetClass: TargetClassID(8), source: .none, transport: .udp),
            PolicyKey(targetClass: TargetClassID(8), source: IdentityID(0x0100_0001), transport: .tcp, port: 8080, portPrefixBits: 16),
            PolicyKey(targetClass: TargetClassID(8), source: IdentityID(300), transport: .tcp, port: 1024, portPrefixBits: 6),
        ]
        for key in keys {
            let c = podgate_policy_key(key)
            #expect(c.prefixlen == UInt32(key.prefixLength))
            #expect(try PolicyKey(load(bytes(c), as: podgate_policy_key.self)) == key)
        }
        // The port is big-endian so LPM prefixes are its high bits.
        let raw = bytes(podgate_policy_key(keys[2]))
        #expect(raw[12] == 6 && raw[13] == 0)
        #expect(raw[14] == 0x1F && raw[15] == 0x90)
        let value = PolicyValue(policyIndex: 17)
        #expect(PolicyValue(load(bytes(podgate_policy_value(value)), as: podgate_policy_value.self)) == value)
    }

    @Test func config() throws {
        let config = DatapathConfig(allowFromHost: true, denyUnknownPods: true, nodeID: 4)
        let c = podgate_config(config)
        #expect(c.abi_version == UInt32(PODGATE_ABI_VERSION))
        #expect(DatapathConfig(load(bytes(c), as: podgate_config.self)) == config)
        #expect(DatapathConfig(podgate_config()) == nil, "abi_version 0 means not configured")
    }

    @Test func event() throws {
        let event = DatapathEvent(timestampNanoseconds: 123_456, cgroup: CgroupID(99), location: .client, verdict: .audit,
                                  reason: .defaultDeny, transportNumber: 17, source: IPAddress("10.0.0.1")!, sourcePort: 5353,
                                  destination: IPAddress("fd00::2")!, destinationPort: 53, sourceIdentity: IdentityID(300),
                                  destinationIdentity: IdentityID(301), targetClass: TargetClassID(8), policyIndex: 0,
                                  sourcePodID: 1, destinationPodID: 2, pid: 4242, command: "curl")
        let decoded = try DatapathEvent(load(bytes(podgate_event(event)), as: podgate_event.self))
        #expect(decoded == event)
        #expect(decoded.transport == .udp)

        var bad = podgate_event(event)
        bad.reason = 200
        #expect(throws: ABIDecodingError.self) { try DatapathEvent(bad) }
    }

    @Test func undecodableNumbersNameTheField() {
        var endpoint = podgate_endpoint()
        endpoint.default_policy = 77
        #expect {
            try EndpointValue(endpoint)
        } throws: { error in
            (error as? ABIDecodingError) == ABIDecodingError(structure: "podgate_endpoint", field: "default_policy", value: 77)
        }
    }
}

/// One number per map, in two places: the BPF defaults and the agent's flags.
@Suite struct CapacityDefaultsTests {
    @Test func agentDefaultsEqualTheBPFDefaults() {
        let limits = StateLimits(), capacities = MapCapacities()
        #expect(UInt32(limits.endpoints) == capacities.endpoints)
        #expect(UInt32(limits.addresses) == capacities.addresses)
        #expect(UInt32(limits.cidrs) == capacities.cidrs)
        #expect(UInt32(limits.policy) == capacities.policy)
        #expect(UInt32(limits.flows) == capacities.flows)
    }
}
