import PodgateCompiler
import PodgateModel

/// Where the agent's picture of the cluster comes from: a manifest
/// directory (local mode) or the API server (Kubernetes mode). The agent
/// owns the one reconcile loop; a source only wakes it and answers `read`.
protocol ClusterSource: AnyObject, Sendable {
    /// The cgroup the programs attach to; throws a configuration error that
    /// names the flag when it is missing or wrong.
    func cgroupRoot() throws -> String
    /// Begins watching and returns the wake-ups (coalesced: newest only).
    func start(cgroupRoot: String) throws -> AsyncStream<Void>
    /// Long-running work (list/watch); returns when the task is cancelled.
    func run() async
    func stop()
    /// Everything the next reconcile needs. `previous` is the snapshot in
    /// the kernel: an unreadable object keeps its version from there.
    func read(previous: ClusterSnapshot) throws -> SourceReading
}

struct SourceReading {
    var snapshot: ClusterSnapshot
    /// The source's own problems (unreadable files or objects), before the compiler's.
    var problems: [Diagnostic]
    /// This node's pods that have a cgroup, by the cgroup's ID.
    var localCgroups: [PodRef: CgroupID]
    /// False until the source has a complete picture: nothing may be
    /// reconciled before (the state adopted from the pinned maps stays).
    var isReady: Bool
    /// Local mode: the generation the manifest writer stamped, if any.
    var generation: Int?
    /// What `podgate status` lists as synchronized by this pass.
    var syncedSources: [String]
    /// What changed since the source's previous reading, when it knows it
    /// (Kubernetes mode): the compile step then skips diffing two snapshots.
    var changes: SourceChanges? = nil
}

/// The changes that lead from the snapshot of reading `since` to this one,
/// numbered `sequence` (equal to `since` when nothing changed).
struct SourceChanges {
    var since: Int
    var sequence: Int
    var changes: [ClusterChange]
}
