import CLibbpf
import CPodgateABI
import Foundation
import PodgateTestSupport
import PodgateCgroups
import PodgateModel
import Testing
@testable import PodgateDatapath

/// Issue 13 item 4, from outside the node: a packet arriving on the node's
/// uplink that claims a local pod's address or the node's own address is
/// dropped at the edge (tc ingress, `podgate_edge`) and counted; a remote
/// pod's address arriving there is not touched. Echo requests from outside
/// to a deny pod are judged there too (the pod's kernel would answer them).
///
///   outside 10.201.0.1 | fd00:201::1  --uplink--  node 10.201.0.2 | fd00:201::2
///   node 10.203.0.1 | fd00:203::1  --pod veth--  db 10.203.0.2 | fd00:203::2
///   pod X: 10.203.0.5 | fd00:203::5 (local, routed to the pod veth; db admits it on UDP 5353)
///   remote pod R: 10.244.9.9 | fd00:244::9 (routed to the uplink; db admits it on UDP 5353)
@Suite(.serialized, .kernel)
struct EdgeTests {
    /// Runs `body` on this thread inside network namespace `name` (setns
    /// affects the calling thread only), then returns to the original one.
    /// setns(2): Glibc's Swift module hides it (no _GNU_SOURCE).
    static let setns: @convention(c) (Int32, Int32) -> Int32 = unsafeBitCast(dlsym(nil, "setns"), to: (@convention(c) (Int32, Int32) -> Int32).self)
    static let newNet: Int32 = 0x4000_0000  // CLONE_NEWNET

    static func inNamespace<T>(_ name: String, _ body: () throws -> T) throws -> T {
        let original = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC)
        let target = open("/run/netns/" + name, O_RDONLY | O_CLOEXEC)
        guard original >= 0, target >= 0 else { throw CommandError(message: "open netns \(name): errno \(errno)") }
        defer { close(original); close(target) }
        guard setns(target, newNet) == 0 else { throw CommandError(message: "setns \(name): errno \(errno)") }
        defer { _ = setns(original, newNet) }
        return try body()
    }

    /// Resolves the neighbours on the way from `namespace` to each address
    /// before anything is counted: datagrams queued behind a slow neighbour
    /// discovery on a loaded machine could arrive after a listener stopped.
    /// Its outcome is not asserted (before the load nothing is filtered).
    static func warmNeighbours(_ namespace: String, _ addresses: [String]) throws {
        for address in addresses {
            try Command.run(["sh", "-c", "ip netns exec \(namespace) ping -c1 -W3 \(address) >/dev/null 2>&1 || true"])
        }
    }

    @Test func packetsFromOutsideClaimingLocalAddressesAreDroppedAtTheEdge() throws {
        let sandbox = try KernelSandbox()
        defer { sandbox.tearDown() }
        let outside = try sandbox.makeNamespace("out"), node = try sandbox.makeNamespace("node"), db = try sandbox.makeNamespace("db")
        let tag = sandbox.tag.prefix(7)
        let uplink = "pgU\(tag)n", podVeth = "pgP\(tag)n"
        try Command.run(["ip", "link", "add", "pgU\(tag)o", "netns", outside, "type", "veth", "peer", "name", uplink, "netns", node])
        try Command.run(["ip", "link", "add", "pgP\(tag)d", "netns", db, "type", "veth", "peer", "name", podVeth, "netns", node])
        for (namespace, device, addresses) in [(outside, "pgU\(tag)o", ["10.201.0.1/24", "fd00:201::1/64"]),
                                               (node, uplink, ["10.201.0.2/24", "fd00:201::2/64"]),
                                               (node, podVeth, ["10.203.0.1/24", "fd00:203::1/64"]),
                                               (db, "pgP\(tag)d", ["10.203.0.2/24", "fd00:203::2/64"])] {
            for address in addresses {
                try Command.run(["ip", "-n", namespace, "addr", "add", address, "dev", device] + (address.contains(":") ? ["nodad"] : []))
            }
            try Command.run(["ip", "-n", namespace, "link", "set", device, "up"])
        }
        for route in [[outside, "10.203.0.0/24", "via", "10.201.0.2"], [outside, "fd00:203::/64", "via", "fd00:201::2"],
                      [db, "default", "via", "10.203.0.1"], [db, "default", "via", "fd00:203::1"],
                      [node, "10.244.9.0/24", "via", "10.201.0.1"], [node, "fd00:244::/64", "via", "fd00:201::1"]] {
            try Command.run(["ip", "-n", route[0], "route", "add"] + route.dropFirst())
        }
        for setting in ["net.ipv4.ip_forward=1", "net.ipv6.conf.all.forwarding=1", "net.ipv4.conf.all.rp_filter=0",
                        "net.ipv4.conf.\(uplink).rp_filter=0", "net.ipv4.conf.all.accept_local=1", "net.ipv4.conf.\(uplink).accept_local=1"] {
            try Command.run(["ip", "netns", "exec", node, "sysctl", "-qw", setting])
        }
        // Static neighbours: a delivery count must not wait for (or lose to)
        // neighbour discovery on a loaded machine (as in FailClosedNet).
        let macs = (out: try FailClosedNet.mac(outside, "pgU\(tag)o"), up: try FailClosedNet.mac(node, uplink),
                    pod: try FailClosedNet.mac(node, podVeth), db: try FailClosedNet.mac(db, "pgP\(tag)d"))
        for (namespace, device, address, mac) in [(outside, "pgU\(tag)o", "10.201.0.2", macs.up), (outside, "pgU\(tag)o", "fd00:201::2", macs.up),
                                                  (node, uplink, "10.201.0.1", macs.out), (node, uplink, "fd00:201::1", macs.out),
                                                  (node, podVeth, "10.203.0.2", macs.db), (node, podVeth, "fd00:203::2", macs.db),
                                                  (db, "pgP\(tag)d", "10.203.0.1", macs.pod), (db, "pgP\(tag)d", "fd00:203::1", macs.pod)] {
            try Command.run(["ip", "-n", namespace, "neigh", "replace", address, "lladdr", mac, "dev", device, "nud", "permanent"])
        }
        let dbCgroup = sandbox.cgroupPath + "/db"
        try Cgroups.create(dbCgroup)

        // The edge filter is attached in the node's namespace (interface names and tc are per namespace).
        var loader = sandbox.loader
        loader.edgeInterfaces = [uplink]
        let maps = try Self.inNamespace(node) { try loader.load(attachingTo: sandbox.cgroupPath) }
        defer {  // before the sandbox's cleanup, which runs in this (the host's) namespace
            _ = try? Self.inNamespace(node) { try DatapathLoader.detachAndRemove(pinDirectory: sandbox.pinDirectory) }
        }
        #expect(try Self.inNamespace(node) { EdgeFilter.programID(interface: uplink) } != nil, "podgate_edge is on the uplink")

        let podX = AddressValue(kind: .pod, identity: IdentityID(310), targetClass: TargetClassID(11), podID: 5, defaultPolicy: .deny)
        let remote = AddressValue(kind: .pod, identity: IdentityID(311), targetClass: TargetClassID(12), podID: 6, defaultPolicy: .deny)
        let dbAddress = AddressValue(kind: .pod, identity: IdentityID(301), targetClass: TargetClassID(8), podID: 2, defaultPolicy: .deny)
        let nodeAddress = AddressValue(kind: .host, identity: .host)
        var operations: [MapOperation] = [
            .setConfig(DatapathConfig(allowFromHost: true, denyUnknownPods: true)),
            .updateEndpoint(try Cgroups.id(of: dbCgroup), EndpointValue(identity: IdentityID(301), targetClass: TargetClassID(8), podID: 2,
                                                                        defaultPolicy: .deny, address4: IPAddress("10.203.0.2"),
                                                                        address6: IPAddress("fd00:203::2"))),
        ]
        for (address, value) in [("10.203.0.5", podX), ("fd00:203::5", podX), ("10.244.9.9", remote), ("fd00:244::9", remote),
                                  ("10.203.0.2", dbAddress), ("fd00:203::2", dbAddress), ("10.201.0.2", nodeAddress),
                                  ("fd00:201::2", nodeAddress), ("10.203.0.1", nodeAddress), ("fd00:203::1", nodeAddress)] {
            operations.append(.updateAddress(IPAddress(address)!, value))
        }
        for source in [IdentityID(310), IdentityID(311)] {
            operations.append(.updatePolicy(PolicyKey(targetClass: TargetClassID(8), source: source, transport: .udp, port: 5353,
                                                      portPrefixBits: 16), PolicyValue(policyIndex: 1)))
        }
        operations.append(.updatePolicy(PolicyKey(targetClass: TargetClassID(8), source: .none, transport: .udp, port: 5353, portPrefixBits: 16),
                                        PolicyValue(policyIndex: 1)))
        try maps.apply(operations)

        let tests = FailClosedTests()
        let count = 10
        func deliver(_ source: String, _ destination: String) throws -> Int {
            let listener = try tests.listen(sandbox, dbCgroup, db, ["count-dgrams", "17", destination, "5353"])
            let sent = try tests.lines(sandbox, nil, outside, ["forge-udp", source, destination, "5353", "\(count)"])
            #expect(FailClosedTests.sent(sent) == count, "\(sent)")
            return FailClosedTests.received(listener.stop())
        }
        // A remote pod's address arrives on the uplink, where its route leads: delivered (db admits it).
        #expect(try deliver("10.244.9.9", "10.203.0.2") == count, "a remote pod's datagrams must pass the edge")
        #expect(try deliver("fd00:244::9", "fd00:203::2") == count)
        // A local pod's address and the node's own address, from outside: dropped at the edge.
        var through = 0
        for (source, destination) in [("10.203.0.5", "10.203.0.2"), ("fd00:203::5", "fd00:203::2"),
                                      ("10.201.0.2", "10.203.0.2"), ("fd00:201::2", "fd00:203::2")] {
            let got = try deliver(source, destination)
            #expect(got == 0, "\(source) from outside the node reached db")
            through += max(got, 0)
        }
        #expect(try maps.counters().edgeForged == UInt64(4 * count))

        // Echo requests from outside the node to the deny pod: judged at the edge (its kernel would answer).
        try Command.run(["ip", "netns", "exec", outside, "sysctl", "-qw", "net.ipv4.ping_group_range=0 0"])
        for address in ["10.203.0.2", "fd00:203::2"] {
            #expect(try tests.lines(sandbox, nil, outside, ["ping", address, "3", "0.5"]) == ["replies 0"], "ping \(address) from outside")
        }
        for address in ["10.201.0.2", "fd00:201::2"] {  // the node itself is no pod: answered
            #expect(try tests.lines(sandbox, nil, outside, ["ping", address, "2", "2"]) == ["replies 2"], "ping the node at \(address)")
        }
        #expect(try maps.counters()[.server, .denied, .defaultDeny] >= 6)

        // Without the edge filter the same forgeries arrive: that is what it closes.
        try Self.inNamespace(node) { loader.edgeInterfaces = []; _ = try loader.load(attachingTo: sandbox.cgroupPath) }
        #expect(try Self.inNamespace(node) { EdgeFilter.programID(interface: uplink) } == nil, "detached when no longer named")
        #expect(try deliver("fd00:203::5", "fd00:203::2") == count, "without the edge filter a forged local pod reaches db")

        // --cleanup finds the tc filter through podgate_edges and removes it (tc filters are not links).
        try Self.inNamespace(node) { loader.edgeInterfaces = [uplink]; _ = try loader.load(attachingTo: sandbox.cgroupPath) }
        #expect(try Self.inNamespace(node) { EdgeFilter.programID(interface: uplink) } != nil)
        try Self.inNamespace(node) { _ = try DatapathLoader.detachAndRemove(pinDirectory: sandbox.pinDirectory) }
        #expect(try Self.inNamespace(node) { EdgeFilter.programID(interface: uplink) } == nil, "--cleanup left podgate_edge attached")
        print("podgate-failclosed: item 4 (edge): \(4 * count) datagrams from outside the node forging a local pod's or the node's address (v4+v6), \(through) got through")
    }

    /// `--edge-interfaces auto` on a node with an uplink veth to "outside"
    /// (the default route), a routed pod veth (db) and a bridge with a pod veth
    /// port (p2, as cni0 does it):
    ///
    ///   outside 10.211.0.1 | fd00:211::1  --uplink--  node 10.211.0.2 | fd00:211::2 (default route via outside)
    ///   node 10.213.0.1 | fd00:213::1  --pod veth--  db 10.213.0.2 | fd00:213::2 (admits p2 on UDP 5353)
    ///   node bridge 10.214.0.1 | fd00:214::1  --port veth--  p2 10.214.0.2 | fd00:214::2
    ///
    /// auto picks exactly the uplink, then also a vxlan tunnel created after the
    /// load; forgeries of p2's (behind the bridge) and the node's address from
    /// outside are dropped and counted; p2 reaches db and db reaches outside.
    @Test func autoSelectsTheUplinkAndLaterDevicesNotPodsOrBridges() throws {
        let sandbox = try KernelSandbox()
        defer { sandbox.tearDown() }
        let outside = try sandbox.makeNamespace("out"), node = try sandbox.makeNamespace("node")
        let db = try sandbox.makeNamespace("db"), p2 = try sandbox.makeNamespace("p2")
        let tag = sandbox.tag.prefix(7)
        let uplink = "pgU\(tag)n", podVeth = "pgP\(tag)n", bridge = "pgB\(tag)n", port = "pgQ\(tag)n", tunnel = "pgV\(tag)n"
        try Command.run(["ip", "link", "add", "pgU\(tag)o", "netns", outside, "type", "veth", "peer", "name", uplink, "netns", node])
        try Command.run(["ip", "link", "add", "pgP\(tag)d", "netns", db, "type", "veth", "peer", "name", podVeth, "netns", node])
        try Command.run(["ip", "link", "add", "pgQ\(tag)p", "netns", p2, "type", "veth", "peer", "name", port, "netns", node])
        try Command.run(["ip", "-n", node, "link", "add", bridge, "type", "bridge"])
        try Command.run(["ip", "-n", node, "link", "set", port, "master", bridge, "up"])
        for (namespace, device, addresses) in [(outside, "pgU\(tag)o", ["10.211.0.1/24", "fd00:211::1/64"]),
                                               (node, uplink, ["10.211.0.2/24", "fd00:211::2/64"]),
                                               (node, podVeth, ["10.213.0.1/24", "fd00:213::1/64"]),
                                               (db, "pgP\(tag)d", ["10.213.0.2/24", "fd00:213::2/64"]),
                                               (node, bridge, ["10.214.0.1/24", "fd00:214::1/64"]),
                                               (p2, "pgQ\(tag)p", ["10.214.0.2/24", "fd00:214::2/64"])] {
            for address in addresses {
                try Command.run(["ip", "-n", namespace, "addr", "add", address, "dev", device] + (address.contains(":") ? ["nodad"] : []))
            }
            try Command.run(["ip", "-n", namespace, "link", "set", device, "up"])
        }
        for route in [[outside, "10.213.0.0/24", "via", "10.211.0.2"], [outside, "fd00:213::/64", "via", "fd00:211::2"],
                      [outside, "10.214.0.0/24", "via", "10.211.0.2"], [outside, "fd00:214::/64", "via", "fd00:211::2"],
                      [db, "default", "via", "10.213.0.1"], [db, "default", "via", "fd00:213::1"],
                      [p2, "default", "via", "10.214.0.1"], [p2, "default", "via", "fd00:214::1"],
                      [node, "default", "via", "10.211.0.1"], [node, "default", "via", "fd00:211::1"]] {
            try Command.run(["ip", "-n", route[0], "route", "add"] + route.dropFirst())
        }
        for setting in ["net.ipv4.ip_forward=1", "net.ipv6.conf.all.forwarding=1", "net.ipv4.conf.all.rp_filter=0",
                        "net.ipv4.conf.\(uplink).rp_filter=0", "net.ipv4.conf.all.accept_local=1", "net.ipv4.conf.\(uplink).accept_local=1"] {
            try Command.run(["ip", "netns", "exec", node, "sysctl", "-qw", setting])
        }
        let dbCgroup = sandbox.cgroupPath + "/db", p2Cgroup = sandbox.cgroupPath + "/p2"
        try Cgroups.create(dbCgroup)
        try Cgroups.create(p2Cgroup)
        try Self.warmNeighbours(outside, ["10.213.0.2", "fd00:213::2", "10.214.0.2", "fd00:214::2"])
        try Self.warmNeighbours(p2, ["10.213.0.2", "fd00:213::2"])

        #expect(try Self.inNamespace(node) { try EdgeSelection.current() } == [uplink], "auto: the uplink only")
        var loader = sandbox.loader
        loader.autoEdges = true
        let maps = try Self.inNamespace(node) { try loader.load(attachingTo: sandbox.cgroupPath) }
        defer { _ = try? Self.inNamespace(node) { try DatapathLoader.detachAndRemove(pinDirectory: sandbox.pinDirectory) } }
        for (device, attached) in [(uplink, true), (podVeth, false), (bridge, false), (port, false)] {
            #expect(try Self.inNamespace(node) { EdgeFilter.programID(interface: device) != nil } == attached,
                    "podgate_edge on \(device): expected \(attached)")
        }
        #expect(try Self.inNamespace(node) { try loader.resyncAutoEdges(maps: maps) } == nil, "nothing changed")

        // A device that appears after the start (as flannel.1 or wg0 would) gets the filter at the next scan.
        try Command.run(["ip", "-n", node, "link", "add", tunnel, "type", "vxlan", "id", "42", "dstport", "4789", "dev", uplink])
        try Command.run(["ip", "-n", node, "link", "set", tunnel, "up"])
        #expect(try Self.inNamespace(node) { try loader.resyncAutoEdges(maps: maps) } == [uplink, tunnel])
        #expect(try Self.inNamespace(node) { EdgeFilter.programID(interface: tunnel) } != nil, "podgate_edge on the new device")
        #expect(Set(try EdgeFilter.recorded(maps.edgesFD)).count == 2)

        let p2Value = AddressValue(kind: .pod, identity: IdentityID(320), targetClass: TargetClassID(13), podID: 7, defaultPolicy: .deny)
        let dbValue = AddressValue(kind: .pod, identity: IdentityID(301), targetClass: TargetClassID(8), podID: 2, defaultPolicy: .deny)
        let nodeValue = AddressValue(kind: .host, identity: .host)
        var operations: [MapOperation] = [
            .setConfig(DatapathConfig(allowFromHost: true, denyUnknownPods: true)),
            .updateEndpoint(try Cgroups.id(of: dbCgroup), EndpointValue(identity: IdentityID(301), targetClass: TargetClassID(8), podID: 2,
                                                                        defaultPolicy: .deny, address4: IPAddress("10.213.0.2"),
                                                                        address6: IPAddress("fd00:213::2"))),
            .updateEndpoint(try Cgroups.id(of: p2Cgroup), EndpointValue(identity: IdentityID(320), targetClass: TargetClassID(13), podID: 7,
                                                                        defaultPolicy: .deny, address4: IPAddress("10.214.0.2"),
                                                                        address6: IPAddress("fd00:214::2"))),
        ]
        for (address, value) in [("10.214.0.2", p2Value), ("fd00:214::2", p2Value), ("10.213.0.2", dbValue), ("fd00:213::2", dbValue),
                                  ("10.211.0.2", nodeValue), ("fd00:211::2", nodeValue), ("10.213.0.1", nodeValue),
                                  ("fd00:213::1", nodeValue), ("10.214.0.1", nodeValue), ("fd00:214::1", nodeValue)] {
            operations.append(.updateAddress(IPAddress(address)!, value))
        }
        for source in [IdentityID(320), IdentityID.host] {
            operations.append(.updatePolicy(PolicyKey(targetClass: TargetClassID(8), source: source, transport: .udp, port: 5353,
                                                      portPrefixBits: 16), PolicyValue(policyIndex: 1)))
        }
        try maps.apply(operations)

        let tests = FailClosedTests()
        let count = 10
        func forged(_ source: String, _ destination: String) throws -> Int {
            let listener = try tests.listen(sandbox, dbCgroup, db, ["count-dgrams", "17", destination, "5353"])
            let sent = try tests.lines(sandbox, nil, outside, ["forge-udp", source, destination, "5353", "\(count)"])
            #expect(FailClosedTests.sent(sent) == count, "\(sent)")
            return FailClosedTests.received(listener.stop())
        }
        let before = try maps.counters().edgeForged
        var through = 0
        for (source, destination) in [("10.214.0.2", "10.213.0.2"), ("fd00:214::2", "fd00:213::2"),
                                      ("10.211.0.2", "10.213.0.2"), ("fd00:211::2", "fd00:213::2")] {
            let got = try forged(source, destination)
            #expect(got == 0, "\(source) forged from outside the node reached db")
            through += max(got, 0)
        }
        #expect(try maps.counters().edgeForged - before == UInt64(4 * count))

        // Real traffic still flows: p2 (behind the bridge) to db, db to outside.
        for destination in ["10.213.0.2", "fd00:213::2"] {
            let listener = try tests.listen(sandbox, dbCgroup, db, ["count-dgrams", "17", destination, "5353"])
            let sent = try tests.lines(sandbox, p2Cgroup, p2, ["send-dgrams", "17", destination, "5353", "\(count)"])
            #expect(FailClosedTests.sent(sent) == count, "\(sent)")
            #expect(FailClosedTests.received(listener.stop()) == count, "p2 to db at \(destination)")
        }
        for destination in ["10.211.0.1", "fd00:211::1"] {
            let listener = try tests.listen(sandbox, nil, outside, ["count-dgrams", "17", destination, "5353"])
            let sent = try tests.lines(sandbox, dbCgroup, db, ["send-dgrams", "17", destination, "5353", "\(count)"])
            #expect(FailClosedTests.sent(sent) == count, "\(sent)")
            #expect(FailClosedTests.received(listener.stop()) == count, "db to outside at \(destination)")
        }

        // The tunnel goes: the next scan forgets it.
        try Command.run(["ip", "-n", node, "link", "del", tunnel])
        #expect(try Self.inNamespace(node) { try loader.resyncAutoEdges(maps: maps) } == [uplink])
        #expect(try EdgeFilter.recorded(maps.edgesFD).count == 1)
        print("podgate-failclosed: item 4 (edge, auto): selected [\(uplink)] then +vxlan; \(4 * count) forged datagrams from outside (p2 behind a bridge, the node; v4+v6), \(through) got through")
    }
}
