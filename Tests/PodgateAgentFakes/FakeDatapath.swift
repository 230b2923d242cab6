import PodgateAgent
import PodgateDatapath
import PodgateModel
import Synchronization

/// A datapath in memory: it holds a realized state (preloaded as a
/// previous agent would have left it), applies diffs to it and records them,
/// and fails writes on demand. No kernel, no privilege.
public final class FakeDatapath: Datapath {
    public struct WriteFailure: Error, CustomStringConvertible {
        public var description: String
        public init(_ description: String) { self.description = description }
    }

    private struct Store {
        /// The maps' entries; the config counts only once written (`configured`).
        var state = DesiredState(config: DatapathConfig(allowFromHost: false, denyUnknownPods: false))
        var configured = false
        var applied: [[MapOperation]] = []
        var failures: [WriteFailure] = []
        var loadedFrom: String?
    }
    private let store: Mutex<Store>
    /// The pin directory `status` shows.
    public let pinDirectory = "/fake/podgate"

    private let revoker: FakeRevoker?

    /// `realized`: what the maps hold before the agent starts (nil: nothing, as on a first start).
    /// `revoker`: closes open connections (nil: revocation is unavailable, as on a kernel without it).
    public init(realized: DesiredState? = nil, revoker: FakeRevoker? = nil) {
        self.revoker = revoker
        var store = Store()
        if let realized { (store.state, store.configured) = (realized, true) }
        self.store = Mutex(store)
    }

    /// Every diff handed to `apply`, in order (failed ones included).
    public var appliedDiffs: [[MapOperation]] { store.withLock { $0.applied } }
    /// What the maps hold now (nil: not configured).
    public var held: DesiredState? { store.withLock { $0.configured ? $0.state : nil } }
    /// The cgroup `load` attached to (nil: not loaded).
    public var attachedTo: String? { store.withLock { $0.loadedFrom } }

    /// The next `count` writes fail with `failure`, writing nothing.
    public func failWrites(_ count: Int = 1, with failure: WriteFailure = WriteFailure("fake map write refused")) {
        store.withLock { $0.failures += Array(repeating: failure, count: count) }
    }

    public func load(attachingTo cgroupRoot: String, fillNewMaps: (any DatapathWriter) throws -> Void) throws {
        // Adopts what is "pinned": the preloaded state stays.
        store.withLock { $0.loadedFrom = cgroupRoot }
    }

    /// As the kernel's maps read back.
    public func realizedState() throws -> RealizedState {
        store.withLock { store in
            var realized = RealizedState()
            realized.config = store.configured ? store.state.config : nil
            realized.endpoints = store.state.endpoints
            realized.addresses = store.state.addresses
            realized.cidrs = store.state.cidrs
            realized.policy = store.state.policy
            return realized
        }
    }

    public func apply(_ operations: [MapOperation]) throws {
        try store.withLock { store in
            store.applied.append(operations)
            if !store.failures.isEmpty { throw store.failures.removeFirst() }
            store.state = store.state.applying(operations)
            if operations.contains(where: { if case .setConfig = $0 { true } else { false } }) { store.configured = true }
        }
    }

    public func counters() throws -> DatapathCounters { DatapathCounters() }
    public func capacities() throws -> [String: UInt32] { [:] }
    public func flowCount() throws -> Int? { nil }

    public var followsEdgeInterfaces: Bool { false }
    public func resyncEdgeInterfaces() throws -> [String]? { nil }

    public func startEvents(_ onEvent: @escaping @Sendable (DatapathEvent) -> Void) throws -> any DatapathEventFeed {
        FakeEventFeed()
    }

    public static let revocationProblem = "the fake datapath has no socket iterators"
    public func revocationProblem(btfPath: String) -> String? { revoker == nil ? Self.revocationProblem : nil }
    public func makeRevoker() throws -> any ConnectionRevoker {
        guard let revoker else { throw WriteFailure(Self.revocationProblem) }
        return revoker
    }
}

/// Counts its passes and reports the problems it was given; closes nothing.
public final class FakeRevoker: ConnectionRevoker {
    private let state = Mutex((passes: 0, problems: [String]()))

    public init(problems: [String] = []) {
        state.withLock { $0.problems = problems }
    }

    /// How many revocation passes the agent ran.
    public var passes: Int { state.withLock { $0.passes } }

    public func run(inNetworkNamespaces namespaces: [String]) -> SocketRevoker.Pass {
        state.withLock { state in
            state.passes += 1
            return SocketRevoker.Pass(problems: state.problems)
        }
    }
}

/// Delivers nothing.
final class FakeEventFeed: DatapathEventFeed {
    var undecodable: Int { 0 }
    func stop() {}
}
