import Foundation
import PodgateTestSupport
import PodgateCgroups
import PodgateModel
import Testing
@testable import PodgateDatapath

/// Real-kernel tests: programs attached to a throwaway cgroup, probes that
/// join it before opening sockets, real connect() and real SYNs.
@Suite(.serialized, .kernel)
struct KernelTests {
    // The probing pod: identity 300, pod 1. The target pod: identity 301,
    // target class 8, pod 2, default policy deny, at 10.200.0.1.
    // The probes run in a namespace holding 10.200.0.1 (on lo), so that is the
    // source address the client's packets carry: it owns it (anti-spoofing).
    static let client = EndpointValue(identity: IdentityID(300), targetClass: TargetClassID(7), podID: 1,
                                      defaultPolicy: .allUnauthenticated, address4: IPAddress("10.200.0.1"))
    static let target = IPAddress("10.200.0.1")
    static let targetValue = AddressValue(kind: .pod, identity: IdentityID(301), targetClass: TargetClassID(8), podID: 2,
                                          defaultPolicy: .deny)
    static let config = DatapathConfig(allowFromHost: true, denyUnknownPods: false, nodeID: 5)

    static func baseOperations(_ cgroup: CgroupID) -> [MapOperation] {
        guard let target else { return [] }
        return [
            .setConfig(config),
            .updateCIDR(CIDR("10.200.0.0/16")!, CIDRValue(cidrClass: IdentityID(0x0100_0001), inCluster: true)),
            .updateAddress(target, targetValue),
            .updateEndpoint(cgroup, client),
        ]
    }

    /// The target address inside a namespace of our own.
    static func clientNamespace(_ sandbox: KernelSandbox) throws -> String {
        let namespace = try sandbox.makeNamespace("c")
        try Command.run(["ip", "-n", namespace, "addr", "add", "10.200.0.1/32", "dev", "lo"])
        return namespace
    }

    @Test func deniedConnectFailsWithEPERMOnBothSocketFamilies() throws {
        let (sandbox, maps) = try KernelSandbox.loaded()
        defer { sandbox.tearDown() }
        let namespace = try Self.clientNamespace(sandbox)
        let collector = try sandbox.collectEvents(maps)

        // Not configured yet (abi_version 0): everything is allowed.
        try maps.apply([.updateAddress(Self.target!, Self.targetValue)])
        var result = try sandbox.session(cgroup: sandbox.cgroupPath, namespace: namespace,
                                       ["connect", "10.200.0.1", "9000", "tcp"]).finish()
        #expect(result.lines == ["refused"])

        try maps.apply(Self.baseOperations(try Cgroups.id(of: sandbox.cgroupPath)))
        result = try sandbox.session(cgroup: sandbox.cgroupPath, namespace: namespace,
                                   ["connect", "10.200.0.1", "9000", "tcp"]).finish()
        #expect(result.lines == ["EPERM"])
        let event = collector.wait { $0.pid == result.pid }
        #expect(event?.location == .client)
        #expect(event?.verdict == .denied)
        #expect(event?.reason == .defaultDeny)
        #expect(event?.destination == Self.target)
        #expect(event?.destinationPort == 9000)
        #expect(event?.sourceIdentity == IdentityID(300))
        #expect(event?.destinationIdentity == IdentityID(301))
        #expect(event?.targetClass == TargetClassID(8))
        #expect(event?.cgroup == (try Cgroups.id(of: sandbox.cgroupPath)))
        #expect(event?.command != nil)

        // An AF_INET6 socket to ::ffff:10.200.0.1 runs connect6: same decision.
        let mapped = try sandbox.session(cgroup: sandbox.cgroupPath, namespace: namespace,
                                       ["connect", "::ffff:10.200.0.1", "9000", "tcp"]).finish()
        #expect(mapped.lines == ["EPERM"])
        #expect(collector.wait { $0.pid == mapped.pid } != nil)

        // UDP connect is judged the same way.
        let udp = try sandbox.session(cgroup: sandbox.cgroupPath, namespace: namespace,
                                    ["connect", "10.200.0.1", "9000", "udp"]).finish()
        #expect(udp.lines == ["EPERM"])

        let counters = try maps.counters()
        #expect(counters[.client, .denied, .defaultDeny] == 3)
        #expect(counters.eventsLost == 0)

        // A process outside the cgroup is not judged by the client hooks.
        let outside = try sandbox.session(cgroup: nil, namespace: namespace, ["connect", "10.200.0.1", "9000", "tcp"]).finish()
        #expect(outside.lines == ["refused"])
    }

    @Test func allowEntryLetsTheConnectionThroughAndCountsHits() throws {
        let (sandbox, maps) = try KernelSandbox.loaded()
        defer { sandbox.tearDown() }
        let namespace = try Self.clientNamespace(sandbox)
        try maps.apply(Self.baseOperations(try Cgroups.id(of: sandbox.cgroupPath)))

        let allow = PolicyKey(targetClass: TargetClassID(8), source: IdentityID(300), transport: .tcp, port: 9000,
                              portPrefixBits: 16)
        let covered = PolicyKey(targetClass: TargetClassID(8), source: .none, transport: .tcp, port: 9000, portPrefixBits: 16)
        try maps.apply([.updatePolicy(allow, PolicyValue(policyIndex: 3)), .updatePolicy(covered, PolicyValue(policyIndex: 3))])
        let allowed = try sandbox.session(cgroup: sandbox.cgroupPath, namespace: namespace,
                                        ["connect", "10.200.0.1", "9000", "tcp"]).finish()
        #expect(allowed.lines == ["refused"])  // reached the (closed) port: not EPERM
        let mapped = try sandbox.session(cgroup: sandbox.cgroupPath, namespace: namespace,
                                       ["connect", "::ffff:10.200.0.1", "9000", "tcp"]).finish()
        #expect(mapped.lines == ["refused"])

        // Port 9001 is not covered: the default (deny) decides. Covered by a
        // policy that does not allow us: not-authorized.
        let other = PolicyKey(targetClass: TargetClassID(8), source: .none, transport: .tcp, port: 9002, portPrefixBits: 16)
        try maps.apply([.updatePolicy(other, PolicyValue(policyIndex: 4))])
        let collector = try sandbox.collectEvents(maps)
        let denied = try sandbox.session(cgroup: sandbox.cgroupPath, namespace: namespace,
                                       ["connect", "10.200.0.1", "9002", "tcp"]).finish()
        #expect(denied.lines == ["EPERM"])
        let event = collector.wait { $0.pid == denied.pid }
        #expect(event?.reason == .notAuthorized)
        #expect(event?.policyIndex == 4)

        let realized = try maps.realizedState()
        #expect(realized.policyHits[allow] == 2)
        let counters = try maps.counters()
        #expect(counters[.client, .allowed, .none] == 2)
        #expect(counters[.client, .denied, .notAuthorized] == 1)
    }

    @Test func realizedStateReadsBackWhatWasWritten() throws {
        let (sandbox, maps) = try KernelSandbox.loaded()
        defer { sandbox.tearDown() }
        #expect(try maps.realizedState().config == nil)

        var desired = DesiredState(config: Self.config)
        desired.endpoints[CgroupID(42)] = Self.client
        desired.endpoints[CgroupID(43)] = EndpointValue(identity: IdentityID(302), targetClass: TargetClassID(9), podID: 3,
                                                        defaultPolicy: .clusterAuthenticated,
                                                        cidrClass4: IdentityID(0x0100_0002), cidrClass6: IdentityID(0x0100_0003),
                                                        inCluster4: true, inCluster6: false)
        desired.addresses[Self.target!] = Self.targetValue
        desired.addresses[IPAddress("fd00::7")!] = Self.targetValue
        desired.addresses[IPAddress("192.168.1.1")!] = AddressValue(kind: .host, identity: .host)
        desired.addresses[IPAddress("192.168.1.2")!] = AddressValue(kind: .remoteNode, identity: .remoteNode)
        desired.cidrs[CIDR("10.0.0.0/8")!] = CIDRValue(cidrClass: IdentityID(0x0100_0002), inCluster: true)
        desired.cidrs[CIDR("fd00::/64")!] = CIDRValue(cidrClass: IdentityID(0x0100_0003), inCluster: false)
        desired.policy[PolicyKey(targetClass: TargetClassID(8), source: IdentityID(300), transport: nil)] = PolicyValue(policyIndex: 1)
        desired.policy[PolicyKey(targetClass: TargetClassID(8), source: .none, transport: .udp)] = PolicyValue(policyIndex: 2)
        desired.policy[PolicyKey(targetClass: TargetClassID(8), source: IdentityID(0x0100_0002), transport: .tcp,
                                 port: 8080, portPrefixBits: 13)] = PolicyValue(policyIndex: 3)

        var operations: [MapOperation] = [.setConfig(desired.config)]
        operations += desired.cidrs.map { .updateCIDR($0.key, $0.value) }
        operations += desired.policy.map { .updatePolicy($0.key, $0.value) }
        operations += desired.addresses.map { .updateAddress($0.key, $0.value) }
        operations += desired.endpoints.map { .updateEndpoint($0.key, $0.value) }
        try maps.apply(operations)

        let realized = try maps.realizedState()
        #expect(realized.unreadable.isEmpty)
        #expect(realized.desiredStateShape == desired)

        // Deletes, including one of an entry that is not there.
        try maps.apply([.deleteEndpoint(CgroupID(43)), .deleteEndpoint(CgroupID(99)), .deleteCIDR(CIDR("fd00::/64")!)])
        let after = try maps.realizedState()
        #expect(after.endpoints.keys.sorted() == [CgroupID(42)])
        #expect(after.cidrs.count == 1)
    }

    @Test func secondLoadAdoptsMapsAndLinksAndCleanupRemovesThem() throws {
        let sandbox = try KernelSandbox()
        defer { sandbox.tearDown() }
        let first = try sandbox.loader.load(attachingTo: sandbox.cgroupPath)
        try first.apply(Self.baseOperations(CgroupID(77)))
        let before = try CgroupAttachments.programs(at: sandbox.cgroupPath)
        #expect(before.values.allSatisfy { $0.count == 1 })

        let second = try sandbox.loader.load(attachingTo: sandbox.cgroupPath)
        let after = try CgroupAttachments.programs(at: sandbox.cgroupPath)
        #expect(after.values.allSatisfy { $0.count == 1 }, "no duplicate attachment: \(after)")
        #expect(try second.realizedState() == (try first.realizedState()))
        #expect(try second.realizedState().endpoints[CgroupID(77)] == Self.client)

        // Attaching the same pins to another cgroup is refused clearly.
        let elsewhere = sandbox.cgroupPath + "/other"
        try Cgroups.create(elsewhere)
        #expect(throws: DatapathError.self) { try sandbox.loader.load(attachingTo: elsewhere) }

        try DatapathLoader.detachAndRemove(pinDirectory: sandbox.pinDirectory)
        #expect(access(sandbox.pinDirectory, F_OK) != 0)
        let cleaned = try CgroupAttachments.programs(at: sandbox.cgroupPath)
        #expect(cleaned.values.allSatisfy { $0.isEmpty }, "detached: \(cleaned)")
    }

    @Test func preflightNamesWhatIsMissing() throws {
        #expect {
            try Preflight.check(pinDirectory: "/tmp/podgate-not-bpffs/pins", cgroupPath: try Cgroups.mountPoint())
        } throws: { error in
            (error as? DatapathError)?.detail.contains("BPF file system is not mounted") == true
        }
        #expect {
            try Preflight.check(pinDirectory: "/sys/fs/bpf/podgate-x", cgroupPath: "/tmp")
        } throws: { error in
            (error as? DatapathError)?.detail.contains("not a cgroup v2 directory") == true
        }
    }

    /// A real SYN over a veth pair from another namespace: the server pod's
    /// ingress program drops it (the client times out) and reports it.
    @Test func serverDropsDeniedSYNFromAnotherNamespace() throws {
        let (sandbox, maps) = try KernelSandbox.loaded()
        defer { sandbox.tearDown() }
        let (clientSide, serverSide) = try sandbox.serverBehindVeth(maps)
        let collector = try sandbox.collectEvents(maps)

        var listener = try sandbox.ready(cgroup: sandbox.cgroupPath, namespace: serverSide, ["listen", "10.201.0.2", "8080", "3"])
        let denied = try sandbox.session(cgroup: nil, namespace: clientSide, ["connect", "10.201.0.2", "8080", "tcp", "1.5"]).finish()
        #expect(denied.lines == ["timeout"])
        #expect(listener.finish().lines == ["timeout"])
        let event = collector.wait { $0.location == .server }
        #expect(event?.reason == .defaultDeny)
        #expect(event?.verdict == .denied)
        #expect(event?.source == IPAddress("10.201.0.1"))
        #expect(event?.destination == IPAddress("10.201.0.2"))
        #expect(event?.destinationPort == 8080)
        #expect(event?.sourceIdentity == .world)
        #expect(event?.pid == nil)

        // An allow entry for the world identity on that port lets it in.
        try maps.apply([.updatePolicy(PolicyKey(targetClass: TargetClassID(8), source: .world, transport: .tcp, port: 8080,
                                                portPrefixBits: 16), PolicyValue(policyIndex: 1))])
        listener = try sandbox.ready(cgroup: sandbox.cgroupPath, namespace: serverSide, ["listen", "10.201.0.2", "8080", "3"])
        let allowed = try sandbox.session(cgroup: nil, namespace: clientSide, ["connect", "10.201.0.2", "8080", "tcp", "2"]).finish()
        #expect(allowed.lines == ["connected"])
        #expect(listener.finish().lines == ["accepted 10.201.0.1"])
        #expect(try maps.counters()[.server, .denied, .defaultDeny] >= 1)
    }
}
