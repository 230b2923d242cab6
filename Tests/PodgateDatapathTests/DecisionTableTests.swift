import Foundation
import PodgateTestSupport
import PodgateCgroups
import PodgateCompiler
import PodgateModel
import Testing
@testable import PodgateDatapath

/// One table, two deciders: every case runs through `MapLookup` (the
/// compiler's reading of the maps) and through the kernel (real connect()
/// calls from a throwaway pod cgroup), and the two must agree on the verdict
/// and the reason. The kernel's answer is read from its decision counters
/// (exact: where, verdict, reason), cross-checked with what the socket saw.
/// Rules as numbered in docs/policy-semantics.md.
@Suite(.serialized, .kernel)
struct DecisionTableTests {
    struct Case: Sendable, CustomStringConvertible {
        var name: String
        var port: UInt16 = 9000
        var transport: TransportProtocol = .tcp
        var socketSees: String? = nil  // when not the decision's (anti-spoofing drops the packet)
        var change: @Sendable (inout DesiredState, CgroupID) -> Void
        var description: String { name }
    }

    /// What a decider said: nil = not judged at this side.
    struct Outcome: Hashable, CustomStringConvertible {
        var verdict: DatapathEvent.Verdict
        var reason: DecisionReason
        var description: String { "\(verdict)/\(reason)" }

        init(verdict: DatapathEvent.Verdict, reason: DecisionReason) { self.verdict = verdict; self.reason = reason }
        init(_ result: MapLookup.Result) {
            verdict = result.audited ? .audit : (result.allowed ? .allowed : .denied)
            reason = result.reason
        }
    }

    // MARK: - the fixtures both deciders read

    static let callerIdentity = IdentityID(300), targetIdentity = IdentityID(301), otherIdentity = IdentityID(399)
    static let targetClass = TargetClassID(8)
    static let network = IdentityID(0x0100_0001)

    static func allow(_ source: IdentityID, _ transport: TransportProtocol?, port: UInt16 = 0, bits: Int = 0,
                      index: UInt32 = 1) -> [PolicyKey: PolicyValue] {
        [PolicyKey(targetClass: targetClass, source: source, transport: transport, port: port, portPrefixBits: bits): PolicyValue(policyIndex: index),
         PolicyKey(targetClass: targetClass, source: .none, transport: transport, port: port, portPrefixBits: bits): PolicyValue(policyIndex: index)]
    }

    // MARK: - client side: the sandbox cgroup's pod connects to 10.200.0.1

    /// The caller (identity 300, pod 1) and the target pod at 10.200.0.1
    /// (identity 301, class 8, pod 2), which the probe's namespace holds on lo.
    static func clientBase(_ cgroup: CgroupID) -> DesiredState {
        DesiredState(config: DatapathConfig(allowFromHost: true, denyUnknownPods: false, nodeID: 5),
                     endpoints: [cgroup: KernelTests.client],
                     addresses: [KernelTests.target!: AddressValue(kind: .pod, identity: targetIdentity, targetClass: targetClass,
                                                                   podID: 2, defaultPolicy: .allUnauthenticated)])
    }

    static func defaultPolicy(_ policy: DefaultInboundPolicy) -> @Sendable (inout DesiredState, CgroupID) -> Void {
        { state, _ in state.addresses[KernelTests.target!]?.defaultPolicy = policy }
    }

    static func callerInCluster(_ state: inout DesiredState, _ cgroup: CgroupID) {
        state.endpoints[cgroup]?.inCluster4 = true
    }

    static let clientCases: [Case] = [
        // Rule 4, each default inbound policy.
        Case(name: "4 all-unauthenticated", change: defaultPolicy(.allUnauthenticated)),
        Case(name: "4 cluster-unauthenticated, caller outside", change: defaultPolicy(.clusterUnauthenticated)),
        Case(name: "4 cluster-unauthenticated, caller inside") { s, c in
            defaultPolicy(.clusterUnauthenticated)(&s, c); callerInCluster(&s, c) },
        Case(name: "4 all-authenticated, a pod", change: defaultPolicy(.allAuthenticated)),
        Case(name: "4 cluster-authenticated, caller outside", change: defaultPolicy(.clusterAuthenticated)),
        Case(name: "4 cluster-authenticated, caller inside") { s, c in
            defaultPolicy(.clusterAuthenticated)(&s, c); callerInCluster(&s, c) },
        Case(name: "4 deny", change: defaultPolicy(.deny)),
        Case(name: "4 audit", change: defaultPolicy(.audit)),
        Case(name: "4 deny, UDP", transport: .udp, change: defaultPolicy(.deny)),
        // Rule 3: authorized-only ports.
        Case(name: "3a identity allowed on the port") { s, c in
            defaultPolicy(.deny)(&s, c); s.policy = allow(callerIdentity, .tcp, port: 9000, bits: 16) },
        Case(name: "3c another identity allowed: not-authorized") { s, c in
            defaultPolicy(.allUnauthenticated)(&s, c); s.policy = allow(otherIdentity, .tcp, port: 9000, bits: 16, index: 7) },
        Case(name: "3b the caller's network allowed") { s, c in
            defaultPolicy(.deny)(&s, c); s.endpoints[c]?.cidrClass4 = network
            s.policy = allow(otherIdentity, .tcp, port: 9000, bits: 16).merging(allow(network, .tcp, port: 9000, bits: 16)) { a, _ in a } },
        Case(name: "3c a port range covers the port", port: 9005) { s, c in
            defaultPolicy(.allUnauthenticated)(&s, c); s.policy = allow(otherIdentity, .tcp, port: 9000, bits: 13) },
        Case(name: "4 a port outside the range", port: 9010) { s, c in
            defaultPolicy(.deny)(&s, c); s.policy = allow(otherIdentity, .tcp, port: 9000, bits: 13) },
        Case(name: "3a every port and protocol (prefix ALL)", port: 9123) { s, c in
            defaultPolicy(.deny)(&s, c); s.policy = allow(callerIdentity, nil) },
        Case(name: "3c every TCP port (prefix PROTOCOL), not ours") { s, c in
            defaultPolicy(.allUnauthenticated)(&s, c); s.policy = allow(otherIdentity, .tcp) },
        Case(name: "4 every TCP port covered, UDP is not", transport: .udp) { s, c in
            defaultPolicy(.deny)(&s, c); s.policy = allow(otherIdentity, .tcp) },
        Case(name: "3a UDP allowed on the port", transport: .udp) { s, c in
            defaultPolicy(.deny)(&s, c); s.policy = allow(callerIdentity, .udp, port: 9000, bits: 16) },
        // Rule 1: the pod reaching itself.
        Case(name: "1 the caller's own pod") { s, c in
            defaultPolicy(.deny)(&s, c); s.addresses[KernelTests.target!]?.podID = 1 },
        // Left to the server.
        // Its SYN, from a pod's address, is then dropped by anti-spoofing (host-network pods
        // send from the node's addresses only): the socket times out.
        Case(name: "a host-network caller: left to the server", socketSees: "timeout") { s, c in
            defaultPolicy(.deny)(&s, c); s.endpoints[c]?.identity = .host },
        Case(name: "not a pod address: left to the server") { s, c in
            s.addresses[KernelTests.target!] = AddressValue(kind: .remoteNode, identity: .remoteNode) },
        Case(name: "an unregistered caller, trusted: left to the server") { s, c in
            defaultPolicy(.deny)(&s, c); s.endpoints[c] = nil },
        Case(name: "an unregistered caller, distrusted: unknown pod") { s, c in
            defaultPolicy(.allAuthenticated)(&s, c); s.endpoints[c] = nil; s.config.denyUnknownPods = true },
    ]

    @Test func clientSideAgreesWithMapLookup() throws {
        let sandbox = try KernelSandbox()
        defer { sandbox.tearDown() }
        let maps = try sandbox.loader.load(attachingTo: sandbox.cgroupPath)
        let namespace = try KernelTests.clientNamespace(sandbox)
        let cgroup = try Cgroups.id(of: sandbox.cgroupPath)
        var applied: DesiredState?

        for item in Self.clientCases {
            var state = Self.clientBase(cgroup)
            item.change(&state, cgroup)
            try maps.apply(StateDiff.operations(from: applied, to: state))
            applied = state

            let expected = MapLookup.client(state, source: cgroup, destination: KernelTests.target!, port: item.port,
                                            transport: item.transport).map(Outcome.init)
            let before = try maps.counters()
            let probe = try sandbox.session(cgroup: sandbox.cgroupPath, namespace: namespace,
                                          ["connect", "10.200.0.1", String(item.port), item.transport == .tcp ? "tcp" : "udp"]).finish()
            let counted = Self.decisions(at: .client, from: before, to: try maps.counters())
            // A decision is counted once; none when the kernel leaves it to the
            // server, or for rule 1 (a pod reaching itself is not counted).
            #expect(counted.count <= 1, "\(item): \(counted)")
            let kernel = counted.first ?? (expected == nil ? nil : Outcome(verdict: .allowed, reason: .none))
            #expect(kernel == expected, "\(item): kernel \(String(describing: kernel)), MapLookup \(String(describing: expected))")
            // What the socket saw: EPERM exactly when the client side denied.
            let denied = expected?.verdict == .denied
            let sees = item.socketSees ?? (denied ? "EPERM" : (item.transport == .tcp ? "refused" : "connected"))
            #expect(probe.lines == [sees], "\(item): \(probe.lines)")
        }
    }

    // MARK: - server side: a host process at 10.201.0.1 connects to the pod at 10.201.0.2

    static let server = KernelSandbox.deniedServer
    static let peer = IPAddress("10.201.0.1")!

    static func serverBase(_ cgroup: CgroupID) -> DesiredState {
        DesiredState(config: DatapathConfig(allowFromHost: true, denyUnknownPods: false, nodeID: 5), endpoints: [cgroup: server])
    }

    static func serverDefault(_ policy: DefaultInboundPolicy) -> @Sendable (inout DesiredState, CgroupID) -> Void {
        { state, cgroup in state.endpoints[cgroup]?.defaultPolicy = policy }
    }

    static let serverCases: [Case] = [
        Case(name: "4 deny, the world", change: serverDefault(.deny)),
        Case(name: "4 all-unauthenticated, the world", change: serverDefault(.allUnauthenticated)),
        Case(name: "4 all-authenticated, the world", change: serverDefault(.allAuthenticated)),
        Case(name: "4 all-authenticated, a remote pod") { s, c in
            serverDefault(.allAuthenticated)(&s, c)
            s.addresses[peer] = AddressValue(kind: .pod, identity: callerIdentity, targetClass: TargetClassID(7), podID: 9,
                                             defaultPolicy: .allUnauthenticated) },
        Case(name: "4 cluster-unauthenticated, inside the cluster networks") { s, c in
            serverDefault(.clusterUnauthenticated)(&s, c)
            s.cidrs[CIDR("10.201.0.0/24")!] = CIDRValue(cidrClass: network, inCluster: true) },
        Case(name: "4 cluster-unauthenticated, outside", change: serverDefault(.clusterUnauthenticated)),
        Case(name: "4 audit", change: serverDefault(.audit)),
        Case(name: "2 the node, --allow-from-host") { s, c in
            serverDefault(.deny)(&s, c); s.addresses[peer] = AddressValue(kind: .host, identity: .host) },
        Case(name: "2 the node, --allow-from-host=false: rule 4") { s, c in
            serverDefault(.deny)(&s, c); s.addresses[peer] = AddressValue(kind: .host, identity: .host)
            s.config.allowFromHost = false },
        Case(name: "3a a remote pod allowed by identity") { s, c in
            serverDefault(.deny)(&s, c); s.policy = allow(callerIdentity, .tcp, port: 9000, bits: 16)
            s.addresses[peer] = AddressValue(kind: .pod, identity: callerIdentity, targetClass: TargetClassID(7), podID: 9,
                                             defaultPolicy: .allUnauthenticated) },
        Case(name: "3b the world allowed by network") { s, c in
            serverDefault(.deny)(&s, c)
            s.cidrs[CIDR("10.201.0.0/24")!] = CIDRValue(cidrClass: network, inCluster: false)
            s.policy = allow(network, .tcp, port: 9000, bits: 16) },
        Case(name: "3c covered, the world not allowed") { s, c in
            serverDefault(.allUnauthenticated)(&s, c); s.policy = allow(otherIdentity, .tcp, port: 9000, bits: 16, index: 4) },
        Case(name: "an unregistered pod cgroup, distrusted") { s, c in
            s.endpoints[c] = nil; s.config.denyUnknownPods = true },
    ]

    @Test func serverSideAgreesWithMapLookup() throws {
        let sandbox = try KernelSandbox()
        defer { sandbox.tearDown() }
        let maps = try sandbox.loader.load(attachingTo: sandbox.cgroupPath)
        let (clientSide, serverSide) = try sandbox.makeVethPair()
        let cgroup = try Cgroups.id(of: sandbox.cgroupPath)
        var applied: DesiredState?
        try maps.apply(StateDiff.operations(from: nil, to: Self.serverBase(cgroup)))
        applied = Self.serverBase(cgroup)
        let listener = try sandbox.session(cgroup: sandbox.cgroupPath, namespace: serverSide, ["serve", "10.201.0.2", "9000"])
        _ = listener.nextLine()
        #expect(listener.nextLine() == "ready")

        for item in Self.serverCases {
            var state = Self.serverBase(cgroup)
            item.change(&state, cgroup)
            try maps.apply(StateDiff.operations(from: applied, to: state))
            applied = state

            let expected = Outcome(MapLookup.server(state, target: cgroup, source: Self.peer, port: item.port, transport: item.transport))
            let before = try maps.counters()
            // A refused SYN is dropped: the client's timeout is the only wait, and
            // the verdict is read from the counters, not from the timing.
            let probe = try sandbox.session(cgroup: nil, namespace: clientSide,
                                          ["connect", "10.201.0.2", String(item.port), "tcp", "1.5"]).finish()
            let counted = Self.decisions(at: .server, from: before, to: try maps.counters())
            #expect(counted.count == 1, "\(item): \(counted)")
            #expect(counted.first == expected, "\(item): kernel \(counted), MapLookup \(expected)")
            let denied = expected.verdict == .denied
            #expect(probe.lines == [denied ? "timeout" : "connected"], "\(item): \(probe.lines)")
        }
    }

    /// The (verdict, reason) pairs counted at `location` between two readings.
    static func decisions(at location: DatapathEvent.Location, from before: DatapathCounters,
                          to after: DatapathCounters) -> [Outcome] {
        after.decisions.compactMap { key, count in
            key.location == location && count > (before.decisions[key] ?? 0)
                ? Outcome(verdict: key.verdict, reason: key.reason) : nil
        }.sorted { $0.description < $1.description }
    }
}
