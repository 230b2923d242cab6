import Foundation
import PodgateTestSupport
import PodgateCgroups
import PodgateModel
import Testing
@testable import PodgateDatapath

/// The known ways around a cgroup-based check, each tried for real.
/// `BypassTests.tried` counts them for the closing note.
@Suite(.serialized, .kernel)
struct BypassTests {
    /// Client side (KernelTests' setup: the target 10.200.0.1 denies by default,
    /// nothing listens, so anything that gets past the check is "refused").
    @Test func clientSideCannotBeSkipped() throws {
        let (sandbox, maps) = try KernelSandbox.loaded()
        defer { sandbox.tearDown() }
        let namespace = try KernelTests.clientNamespace(sandbox)
        try maps.apply(KernelTests.baseOperations(try Cgroups.id(of: sandbox.cgroupPath)))
        func run(_ arguments: [String]) throws -> [String] {
            try sandbox.session(cgroup: sandbox.cgroupPath, namespace: namespace, arguments).finish().lines
        }
        // Unconnected UDP sendmsg, AF_INET and AF_INET6 to ::ffff:a.b.c.d (sendmsg4 and sendmsg6).
        #expect(try run(["udp-unconnected", "10.200.0.1", "9000"]) == ["EPERM", "EPERM"])
        // TCP Fast Open: sendto(MSG_FASTOPEN) connects without connect(); the connect hooks still run.
        #expect(try run(["tfo", "10.200.0.1", "9000"]) == ["EPERM"])
        #expect(try run(["tfo", "::ffff:10.200.0.1", "9000"]) == ["EPERM"])
        // IPv4-mapped connect (connect6, not connect4).
        let mapped = try sandbox.session(cgroup: sandbox.cgroupPath, namespace: namespace, ["connect", "::ffff:10.200.0.1", "9000", "tcp"]).finish()
        #expect(mapped.lines == ["EPERM"])
        // A socket created BEFORE its process joined the pod cgroup keeps the
        // cgroup it was created in: the client-side check does not see it
        // (documented; the server side still judges it, see serverSide...).
        #expect(try run(["early-socket", "10.200.0.1", "9000"]) == ["refused"])
        let counters = try maps.counters()
        #expect(counters[.client, .denied, .defaultDeny] == 5)
    }

    /// Server side: what the client side cannot stop (raw sockets, sockets
    /// outside any pod cgroup, dual-stack listeners) is judged at the server.
    @Test func serverSideDropsWhatTheClientSideCannotSee() throws {
        let (sandbox, maps) = try KernelSandbox.loaded()
        defer { sandbox.tearDown() }
        let (clientSide, serverSide) = try sandbox.serverBehindVeth(maps, extra: [
                        .updateAddress(IPAddress("10.201.0.2")!, AddressValue(kind: .pod, identity: IdentityID(301),
                                                                              targetClass: TargetClassID(8), podID: 2, defaultPolicy: .deny))])

        // A dual-stack (AF_INET6, V6ONLY=0) listener in the server pod.
        let listener = try sandbox.session(cgroup: sandbox.cgroupPath, namespace: serverSide,
                                         ["listen-dual", "8080", "40"])
        _ = listener.nextLine()
        #expect(listener.nextLine() == "ready")

        // Raw SYNs with CAP_NET_RAW from outside any pod: no SYN-ACK comes back.
        let sniff = try sandbox.session(cgroup: nil, namespace: clientSide, ["sniff-synack", "8080", "5"])  // outlasts the raw SYNs' start-up under load
        _ = sniff.nextLine()
        #expect(sniff.nextLine() == "ready")
        let raw = try sandbox.session(cgroup: nil, namespace: clientSide,
                                    ["raw-syn", "10.201.0.1", "10.201.0.2", "8080", "3"]).finish()
        #expect(raw.lines == ["sent", "sent", "sent"])
        #expect(!sniff.finish().lines.contains("synack 10.201.0.2"), "a raw SYN reached the listener")
        // An ordinary client, IPv4 to the dual-stack listener and an early (pre-move) socket: both time out.
        let plain = try sandbox.session(cgroup: nil, namespace: clientSide, ["connect", "10.201.0.2", "8080", "tcp", "1"]).finish()
        #expect(plain.lines == ["timeout"])
        let early = try sandbox.session(cgroup: sandbox.cgroupPath, namespace: clientSide,
                                      ["early-socket", "10.201.0.2", "8080"]).finish()
        #expect(early.lines == ["timeout"])
        #expect(try maps.counters()[.server, .denied, .defaultDeny] >= 5)

        // Control: once the world may connect, the same raw SYN is answered and the listener accepts.
        try maps.apply([.updatePolicy(PolicyKey(targetClass: TargetClassID(8), source: .world, transport: .tcp, port: 8080,
                                                portPrefixBits: 16), PolicyValue(policyIndex: 1))])
        let sniffAgain = try sandbox.session(cgroup: nil, namespace: clientSide, ["sniff-synack", "8080", "5"])  // outlasts the raw SYN's start-up under load
        _ = sniffAgain.nextLine()
        #expect(sniffAgain.nextLine() == "ready")
        _ = try sandbox.session(cgroup: nil, namespace: clientSide,
                              ["raw-syn", "10.201.0.1", "10.201.0.2", "8080", "1"]).finish()
        #expect(sniffAgain.finish().lines.contains("synack 10.201.0.2"), "the sniffer works")
        let allowed = try sandbox.session(cgroup: nil, namespace: clientSide, ["connect", "10.201.0.2", "8080", "tcp", "2"]).finish()
        #expect(allowed.lines == ["connected"])
        #expect(listener.finish().lines.contains("accepted ::ffff:10.201.0.1"))
    }

    /// Loopback inside a pod and a pod reaching its own address are allowed
    /// (policy-semantics rule 1), even with default deny, over IPv4, IPv6
    /// loopback and the IPv4-mapped own address.
    @Test func aPodReachesItselfEvenWhenEverythingElseIsDenied() throws {
        let (sandbox, maps) = try KernelSandbox.loaded()
        defer { sandbox.tearDown() }
        let (_, serverSide) = try sandbox.makeVethPair()
        let pod = EndpointValue(identity: IdentityID(301), targetClass: TargetClassID(8), podID: 2, defaultPolicy: .deny,
                                address4: IPAddress("10.201.0.2"))
        try maps.apply([.setConfig(DatapathConfig(allowFromHost: false, denyUnknownPods: true)),
                        .updateEndpoint(try Cgroups.id(of: sandbox.cgroupPath), pod),
                        .updateAddress(IPAddress("10.201.0.2")!, AddressValue(kind: .pod, identity: IdentityID(301),
                                                                              targetClass: TargetClassID(8), podID: 2, defaultPolicy: .deny))])
        let lines = try sandbox.session(cgroup: sandbox.cgroupPath, namespace: serverSide,
                                      ["self", "10.201.0.2", "7070"]).finish().lines
        #expect(lines == ["127.0.0.1 connected", "10.201.0.2 connected", "::1 connected", "::ffff:10.201.0.2 connected"])
        #expect(try maps.counters().spoofDropped == 0)
    }
}
