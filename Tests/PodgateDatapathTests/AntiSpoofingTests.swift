import Foundation
import PodgateTestSupport
import PodgateCgroups
import PodgateModel
import Testing
@testable import PodgateDatapath

/// A pod must not send from an address that is not its own (the server side
/// trusts source addresses). The attacker pod (10.201.0.2) impersonates an
/// allowed pod (10.201.0.3) with a raw socket and with IP_TRANSPARENT; an
/// observer on the other end of the veth sniffs what actually arrives.
/// Without the egress program the forged SYNs arrive: this test fails.
@Suite(.serialized, .kernel)
struct AntiSpoofingTests {
    static let attacker = EndpointValue(identity: IdentityID(300), targetClass: TargetClassID(7), podID: 1,
                                        defaultPolicy: .allUnauthenticated, address4: IPAddress("10.201.0.2"))
    static let impersonated = AddressValue(kind: .pod, identity: IdentityID(302), targetClass: TargetClassID(9), podID: 3,
                                           defaultPolicy: .allUnauthenticated)

    func sniffer(_ sandbox: KernelSandbox, namespace: String, seconds: Double) throws -> HelperProcess {
        let sniffer = try sandbox.ready(cgroup: nil, namespace: namespace, ["sniff", "8080", "\(seconds)"])
        return sniffer
    }

    @Test func forgedSourcesAreDroppedCountedAndReported() throws {
        let (sandbox, maps) = try KernelSandbox.loaded()
        defer { sandbox.tearDown() }
        let (observer, pod) = try sandbox.makeVethPair()
        let cgroup = try Cgroups.id(of: sandbox.cgroupPath)
        try maps.apply([.setConfig(KernelTests.config), .updateAddress(IPAddress("10.201.0.3")!, Self.impersonated),
                        .updateEndpoint(cgroup, Self.attacker)])
        let collector = try sandbox.collectEvents(maps)

        let sniff = try sniffer(sandbox, namespace: observer, seconds: 8)  // long enough for three probes to start under load
        let forged = try sandbox.session(cgroup: sandbox.cgroupPath, namespace: pod,
                                       ["raw-syn", "10.201.0.3", "10.201.0.1", "8080", "5"]).finish()
        #expect(forged.lines.count == 5 && !forged.lines.contains("sent"), "forged SYNs must not leave: \(forged.lines)")
        let transparent = try sandbox.session(cgroup: sandbox.cgroupPath, namespace: pod,
                                         ["transparent-udp", "10.201.0.3", "10.201.0.1", "8080"]).finish()
        #expect(transparent.lines != ["sent"], "an IP_TRANSPARENT socket must not send from a foreign address: \(transparent.lines)")
        let honest = try sandbox.session(cgroup: sandbox.cgroupPath, namespace: pod,
                                       ["raw-syn", "10.201.0.2", "10.201.0.1", "8080", "1"]).finish()
        #expect(honest.lines == ["sent"])
        let seen = sniff.finish().lines
        #expect(seen.contains("syn 10.201.0.2"), "the sniffer works: the pod's own address gets through: \(seen)")
        #expect(!seen.contains("syn 10.201.0.3") && !seen.contains("udp 10.201.0.3"), "impersonation arrived: \(seen)")

        let dropped = try maps.counters().spoofDropped
        #expect(dropped == 6, "\(forged.lines) \(transparent.lines)")
        let event = collector.wait { $0.reason == .spoofedSource }
        #expect(event?.location == .egress)
        #expect(event?.verdict == .denied)
        #expect(event?.source == IPAddress("10.201.0.3"))
        #expect(event?.destination == IPAddress("10.201.0.1"))
        #expect(event?.cgroup == cgroup)
        #expect(event?.sourceIdentity == IdentityID(300))
        #expect(event?.transportNumber == 6 || event?.transportNumber == 17)
    }

    /// An unregistered cgroup (a pod started while the agent is down) with
    /// unknown cgroups distrusted: it may not claim a known pod's address;
    /// addresses no one claims are only "world" and pass.
    @Test func unregisteredCgroupsCannotClaimKnownPodAddresses() throws {
        let (sandbox, maps) = try KernelSandbox.loaded()
        defer { sandbox.tearDown() }
        let (observer, pod) = try sandbox.makeVethPair()
        try maps.apply([.setConfig(DatapathConfig(allowFromHost: true, denyUnknownPods: true)),
                        .updateAddress(IPAddress("10.201.0.3")!, Self.impersonated)])
        let sniff = try sniffer(sandbox, namespace: observer, seconds: 6)  // long enough for the probes to start under load
        let forged = try sandbox.session(cgroup: sandbox.cgroupPath, namespace: pod,
                                       ["raw-syn", "10.201.0.3", "10.201.0.1", "8080", "2"]).finish()
        #expect(!forged.lines.contains("sent"))
        let unclaimed = try sandbox.session(cgroup: sandbox.cgroupPath, namespace: pod,
                                          ["raw-syn", "10.201.0.9", "10.201.0.1", "8080", "1"]).finish()
        #expect(unclaimed.lines == ["sent"])
        let seen = sniff.finish().lines
        #expect(!seen.contains("syn 10.201.0.3"), "\(seen)")
        #expect(seen.contains("syn 10.201.0.9"), "\(seen)")
        #expect(try maps.counters().spoofDropped == 2)
    }
}
