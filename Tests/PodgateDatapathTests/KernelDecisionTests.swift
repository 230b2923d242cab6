import Foundation
import PodgateTestSupport
import PodgateCgroups
import PodgateModel
import Testing
@testable import PodgateDatapath

/// The decision table of policy.h, exercised through real connect() calls,
/// and UDP reply tracking through a real exchange over a veth pair.
@Suite(.serialized, .kernel)
struct KernelDecisionTests {
    struct Case: Sendable, CustomStringConvertible {
        var policy: DefaultInboundPolicy
        var callerInCluster: Bool
        var expected: String                   // probe result
        var reason: DatapathEvent.Reason?      // event expected, if any
        var verdict: DatapathEvent.Verdict = .denied
        var description: String { "\(policy.rawValue) in-cluster:\(callerInCluster)" }
    }

    static let cases: [Case] = [
        Case(policy: .allUnauthenticated, callerInCluster: false, expected: "refused", reason: nil),
        Case(policy: .clusterUnauthenticated, callerInCluster: false, expected: "EPERM", reason: .notCluster),
        Case(policy: .clusterUnauthenticated, callerInCluster: true, expected: "refused", reason: nil),
        Case(policy: .allAuthenticated, callerInCluster: false, expected: "refused", reason: nil),
        Case(policy: .clusterAuthenticated, callerInCluster: false, expected: "EPERM", reason: .notCluster),
        Case(policy: .clusterAuthenticated, callerInCluster: true, expected: "refused", reason: nil),
        Case(policy: .deny, callerInCluster: true, expected: "EPERM", reason: .defaultDeny),
        // Audited at the client but reported by the server only (once), and this
        // probe's server is not a podgate pod: no event, but the audit counter moves.
        Case(policy: .audit, callerInCluster: false, expected: "refused", reason: nil, verdict: .audit),
    ]

    @Test func defaultInboundPoliciesDecideUncoveredPorts() throws {
        let (sandbox, maps) = try KernelSandbox.loaded()
        defer { sandbox.tearDown() }
        let namespace = try KernelTests.clientNamespace(sandbox)
        let cgroup = try Cgroups.id(of: sandbox.cgroupPath)
        try maps.apply(KernelTests.baseOperations(cgroup))
        let collector = try sandbox.collectEvents(maps)

        for item in Self.cases {
            var target = KernelTests.targetValue
            target.defaultPolicy = item.policy
            var caller = KernelTests.client
            caller.inCluster4 = item.callerInCluster
            try maps.apply([.updateAddress(KernelTests.target!, target), .updateEndpoint(cgroup, caller)])
            let result = try sandbox.session(cgroup: sandbox.cgroupPath, namespace: namespace,
                                           ["connect", "10.200.0.1", "9000", "tcp"]).finish()
            #expect(result.lines == [item.expected], "\(item)")
            if item.reason == nil {
                // No event, proven without a timeout: the ring buffer delivers in
                // order, so once a later refusal's event is in, this probe's would be.
                var fenceTarget = target
                fenceTarget.defaultPolicy = .deny
                try maps.apply([.updateAddress(KernelTests.target!, fenceTarget)])
                let fence = try sandbox.session(cgroup: sandbox.cgroupPath, namespace: namespace,
                                              ["connect", "10.200.0.1", "9000", "tcp"]).finish()
                #expect(fence.lines == ["EPERM"], "\(item): the fence")
                #expect(collector.wait(timeout: 10) { $0.pid == fence.pid } != nil, "\(item): the fence's event")
                #expect(!collector.all().contains { $0.pid == result.pid }, "\(item): an event for a probe that must have none")
            } else {
                let event = collector.wait(timeout: 10) { $0.pid == result.pid }
                #expect(event?.reason == item.reason, "\(item)")
                if let event { #expect(event.verdict == item.verdict, "\(item)") }
            }
        }

        #expect(try maps.counters()[.client, .audit, .defaultDeny] == 1)

        // A host process (no registered cgroup) is left to the server...
        let host = try sandbox.session(cgroup: nil, namespace: namespace, ["connect", "10.200.0.1", "9000", "tcp"]).finish()
        #expect(host.lines == ["refused"])
        // A container cgroup below a registered pod cgroup is that pod (ancestor walk):
        // with all-authenticated, the pod identity is allowed.
        let container = sandbox.cgroupPath + "/container"
        try Cgroups.create(container)
        var target = KernelTests.targetValue
        target.defaultPolicy = .allAuthenticated
        try maps.apply([.updateAddress(KernelTests.target!, target),
                        .setConfig(DatapathConfig(allowFromHost: true, denyUnknownPods: true))])
        let member = try sandbox.session(cgroup: container, namespace: namespace, ["connect", "10.200.0.1", "9000", "tcp"]).finish()
        #expect(member.lines == ["refused"])
        // Unregistered, with unknown cgroups distrusted: judged as unknown-pod, not authenticated.
        try maps.apply([.deleteEndpoint(cgroup)])
        let stranger = try sandbox.session(cgroup: container, namespace: namespace, ["connect", "10.200.0.1", "9000", "tcp"]).finish()
        #expect(stranger.lines == ["EPERM"])
        let event = collector.wait { $0.pid == stranger.pid }
        #expect(event?.sourceIdentity == .unknownPod)
        #expect(event?.reason == .notAuthenticated)
    }

    /// A pod whose default is deny still gets answers to datagrams it sent
    /// (DNS-like), but an unsolicited datagram is dropped at its ingress.
    @Test func udpRepliesPassAndUnsolicitedDatagramsAreDropped() throws {
        let (sandbox, maps) = try KernelSandbox.loaded()
        defer { sandbox.tearDown() }
        let (outside, podSide) = try sandbox.makeVethPair()
        let pod = EndpointValue(identity: IdentityID(301), targetClass: TargetClassID(8), podID: 2, defaultPolicy: .deny,
                                address4: IPAddress("10.201.0.2"))
        try maps.apply([.setConfig(KernelTests.config), .updateEndpoint(try Cgroups.id(of: sandbox.cgroupPath), pod)])

        let echo = try sandbox.ready(cgroup: nil, namespace: outside, ["udp-echo", "10.201.0.1", "5300", "3"])
        let ask = try sandbox.session(cgroup: sandbox.cgroupPath, namespace: podSide, ["udp-ask", "10.201.0.1", "5300", "2"]).finish()
        #expect(ask.lines == ["answered"])
        #expect(echo.finish().lines == ["echoed 10.201.0.2"])
        #expect(try maps.counters().repliesPassed >= 1)

        // The reverse: the outside asks the pod, whose ingress drops the datagram.
        let podEcho = try sandbox.ready(cgroup: sandbox.cgroupPath, namespace: podSide, ["udp-echo", "10.201.0.2", "5301", "2"])
        let unsolicited = try sandbox.session(cgroup: nil, namespace: outside, ["udp-ask", "10.201.0.2", "5301", "1"]).finish()
        #expect(unsolicited.lines == ["timeout"])
        #expect(podEcho.finish().lines == ["timeout"])
        #expect(try maps.counters()[.server, .denied, .defaultDeny] >= 1)
    }
}
