import PodgateCompiler
import PodgateModel

/// Where the agent's picture of the cluster comes from: a manifest
/// directory (local mode) or the API server (Kubernetes mode). The agent
/// owns the one reconcile loop; a source only wakes it and answers `read`.
public protocol ClusterSource: AnyObject, Sendable {
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

public struct SourceReading: Sendable {
    public var snapshot: ClusterSnapshot
    /// The source's own problems (unreadable files or objects), before the compiler's.
    public var problems: [Diagnostic]
    /// This node's pods that have a cgroup, by the cgroup's ID.
    public var localCgroups: [PodRef: CgroupID]
    /// False until the source has a complete picture: nothing may be
    /// reconciled before (the state adopted from the pinned maps stays).
    public var isReady: Bool
    /// Local mode: the generation the manifest writer stamped, if any.
    public var generation: Int?
    /// What `podgate status` lists as synchronized by this pass.
    public var syncedSources: [String]
    /// What changed since the source's previous reading, when it knows it
    /// (Kubernetes mode): the compile step then skips diffing two snapshots.
    public var changes: SourceChanges? = nil

    public init(snapshot: ClusterSnapshot, problems: [Diagnostic], localCgroups: [PodRef: CgroupID], isReady: Bool,
                generation: Int?, syncedSources: [String]) {
        self.snapshot = snapshot
        self.problems = problems
        self.localCgroups = localCgroups
        self.isReady = isReady
        self.generation = generation
        self.syncedSources = syncedSources
    }
}

/// The changes that lead from the snapshot of reading `since` to this one,
/// numbered `sequence` (equal to `since` when nothing changed).
public struct SourceChanges: Sendable {
    public var since: Int
    public var sequence: Int
    public var changes: [ClusterChange]

    public init(since: Int, sequence: Int, changes: [ClusterChange]) {
        self.since = since
        self.sequence = sequence
        self.changes = changes
    }
}

extension Agent {
    /// The source the flags name: a manifest directory, else the API server.
    public static func clusterSource(for options: AgentOptions) throws -> any ClusterSource {
        if let directory = options.manifestsDirectory {
            return LocalSource(directory: directory, cgroupRoot: options.cgroupRoot, nodeName: options.settings.nodeName,
                               stateDirectory: options.stateDirectory)
        }
        return try KubeSource(options: options)
    }
}
