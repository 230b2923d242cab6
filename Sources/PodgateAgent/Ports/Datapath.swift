import PodgateDatapath
import PodgateModel

/// What a reconcile pass needs from a set of maps: what they hold, and a
/// way to write a diff into them. The live maps and, during an upgrade, the
/// new set that is filled before any program uses it.
public protocol DatapathWriter: AnyObject, Sendable {
    /// What the kernel holds: a restarted agent diffs against it (never flushes).
    func realizedState() throws -> RealizedState
    /// Writes the operations in order (a diff adds before it deletes).
    func apply(_ operations: [MapOperation]) throws
}

/// The agent's port to the kernel: the programs and their pinned maps. The
/// command hands in `KernelDatapath`; tests hand in a fake.
public protocol Datapath: DatapathWriter {
    /// Loads (or upgrades) the programs and attaches them under `cgroupRoot`.
    /// Pinned maps that fit are adopted with their entries; a new map set is
    /// written through `fillNewMaps` before any program uses it. Every other
    /// requirement is valid only after this returned.
    func load(attachingTo cgroupRoot: String, fillNewMaps: (any DatapathWriter) throws -> Void) throws
    /// The pin directory of the maps in use (for `status`).
    var pinDirectory: String { get }
    func counters() throws -> DatapathCounters
    /// Capacity per map name.
    func capacities() throws -> [String: UInt32]
    /// Entries of the flow map, nil when it cannot be counted.
    func flowCount() throws -> Int?

    /// True when the edge interfaces follow the node's (`--edge-interfaces auto`).
    var followsEdgeInterfaces: Bool { get }
    /// Scans the interfaces again; the new edges when they changed, else nil.
    func resyncEdgeInterfaces() throws -> [String]?

    /// Starts delivering the programs' events (on a thread of its own).
    func startEvents(_ onEvent: @escaping @Sendable (DatapathEvent) -> Void) throws -> any DatapathEventFeed

    /// Why open connections cannot be closed here (nil: they can).
    func revocationProblem(btfPath: String) -> String?
    func makeRevoker() throws -> any ConnectionRevoker
}

/// A running event delivery.
public protocol DatapathEventFeed: AnyObject, Sendable {
    /// Events not delivered because they could not be decoded.
    var undecodable: Int { get }
    func stop()
}

/// Closes open connections that the maps now refuse.
public protocol ConnectionRevoker: AnyObject, Sendable {
    func run(inNetworkNamespaces namespaces: [String]) -> SocketRevoker.Pass
}
