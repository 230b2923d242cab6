import Foundation
import PodgateCgroups
import PodgateModel
import PodgateTestSupport
import Synchronization
import Testing
@testable import PodgateDatapath

/// Everything one kernel test creates, removed in `tearDown()` (called from
/// a defer, so also when the test fails): the helper processes and network
/// namespaces (a `NamespaceSandbox`), the pin directory (links detached)
/// and the cgroup.
final class KernelSandbox: @unchecked Sendable {  // used from one test at a time
    let lab = NamespaceSandbox()
    var tag: String { lab.tag }
    let cgroupMount: String
    let cgroupPath: String
    let pinDirectory: String
    private var stops: [() -> Void] = []  // event readers, stopped first in tearDown

    init() throws {
        cgroupMount = try Cgroups.mountPoint()
        cgroupPath = cgroupMount + "/podgate-test-" + lab.tag
        pinDirectory = "/sys/fs/bpf/podgate-test-" + lab.tag
        try Cgroups.create(cgroupPath)
    }

    var loader: DatapathLoader { DatapathLoader(pinDirectory: pinDirectory) }

    /// A sandbox with the datapath loaded and attached to its cgroup (torn
    /// down again if that fails); the caller defers `tearDown()`.
    static func loaded() throws -> (KernelSandbox, DatapathMaps) {
        let sandbox = try KernelSandbox()
        do {
            return (sandbox, try sandbox.loader.load(attachingTo: sandbox.cgroupPath))
        } catch {
            sandbox.tearDown()
            throw error
        }
    }

    func tearDown() {
        for stop in stops.reversed() { stop() }
        stops.removeAll()
        lab.tearDown()
        do { try DatapathLoader.detachAndRemove(pinDirectory: pinDirectory) } catch { print("teardown: \(error)") }
        do { try Cgroups.remove(cgroupPath) } catch { print("teardown: \(error)") }
    }

    /// A network namespace with loopback up.
    func makeNamespace(_ suffix: String) throws -> String { try lab.makeNamespace(suffix) }

    /// Two namespaces joined by a veth pair: a (10.201.0.1) and b (10.201.0.2).
    func makeVethPair() throws -> (a: String, b: String) {
        let a = try makeNamespace("a"), b = try makeNamespace("b")
        try lab.link(a, b, names: ("pgA\(tag.prefix(8))", "pgB\(tag.prefix(8))"), addresses: ("10.201.0.1/24", "10.201.0.2/24"))
        return (a, b)
    }

    /// Starts `podgate sim-helper session`: it joins `cgroup` (if any)
    /// FIRST, then enters `namespace`, then opens its sockets; sockets are
    /// tied to the cgroup they are created in. Modes: HelperSession's.
    func session(cgroup: String?, namespace: String, _ arguments: [String]) throws -> HelperProcess {
        try lab.session(cgroup: cgroup, namespace: namespace, arguments)
    }

    /// `session`, once it has said `pid N` and then `ready` (a listener bound, a sniffer open).
    func ready(cgroup: String?, namespace: String, _ arguments: [String]) throws -> HelperProcess {
        let helper = try session(cgroup: cgroup, namespace: namespace, arguments)
        #expect(helper.nextLine()?.hasPrefix("pid") == true)
        #expect(helper.nextLine() == "ready")
        return helper
    }
}

extension KernelSandbox {
    /// The ring buffer events of `maps`, collected until `tearDown()`.
    func collectEvents(_ maps: DatapathMaps) throws -> EventCollector {
        let collector = EventCollector()
        let reader = try DatapathEventReader(maps: maps, onEvent: collector.append)
        try reader.start()
        stops.append { reader.stop() }
        return collector
    }
}

/// Collects ring buffer events for assertions.
final class EventCollector: Sendable {
    private let events = Mutex<[DatapathEvent]>([])

    func append(_ event: DatapathEvent) { events.withLock { $0.append(event) } }

    /// Every event collected so far.
    func all() -> [DatapathEvent] { events.withLock { $0 } }

    /// Waits (up to `timeout` seconds) for an event matching `predicate`.
    func wait(timeout: Double = 3, where predicate: (DatapathEvent) -> Bool) -> DatapathEvent? {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let found = events.withLock({ $0.first(where: predicate) }) { return found }
            usleep(20_000)
        }
        return nil
    }
}

extension KernelSandbox {
    /// The server pod of the server-side tests: 10.201.0.2, deny by default.
    static let deniedServer = EndpointValue(identity: IdentityID(301), targetClass: TargetClassID(8), podID: 2,
                                            defaultPolicy: .deny, address4: IPAddress("10.201.0.2"))

    /// A veth pair whose side b is the sandbox cgroup's pod (`deniedServer`),
    /// with the maps configured for it (plus `extra` operations).
    func serverBehindVeth(_ maps: DatapathMaps, extra: [MapOperation] = []) throws -> (clientSide: String, serverSide: String) {
        let (clientSide, serverSide) = try makeVethPair()
        try maps.apply([.setConfig(KernelTests.config), .updateEndpoint(try Cgroups.id(of: cgroupPath), Self.deniedServer)] + extra)
        return (clientSide, serverSide)
    }
}
