import PodgateCompiler
import PodgateModel

/// The agent's compile step. The sources hand whole snapshots, and the
/// changes since their previous one when they know them (Kubernetes mode);
/// otherwise two consecutive snapshots are diffed into changes for the
/// incremental compiler, whose pending writes are the map operations of the pass. Every
/// `resyncNanoseconds` (and after any failed or refused write) a full compile
/// runs instead: it is compared with the incremental state, any difference
/// is reported (a metric and a log line) and repaired, and the kernel is
/// diffed against the full result.
struct CompileStep {
    let settings: AgentSettings
    let resyncNanoseconds: UInt64
    /// Settable by tests (a compiler that went wrong).
    var incremental: IncrementalCompiler?
    /// The inputs the incremental compiler holds (the next diff starts there).
    private var snapshot = ClusterSnapshot()
    private var cgroups: [PodRef: CgroupID] = [:]
    /// The source's number for `snapshot`, when it numbers them.
    private var sequence: Int?
    /// The kernel holds `incremental.committedState`: every earlier pass was written.
    private(set) var kernelInStep = false
    private var lastFullNanoseconds: UInt64?
    /// The numbers of the last full compile (when there is no incremental compiler).
    private var allocation = Allocation()

    struct Pass {
        var compilation: Compilation
        var operations: [MapOperation]
        var exceeded: [StateLimits.Exceeded]
        var full: Bool
        /// A full pass that checked the incremental state: the entries that differed (0: none).
        var differences: Int?
        var summary: String?
        /// The changes this pass applied (from the step's previous snapshot to this one).
        var changes: [ClusterChange] = []
    }

    init(settings: AgentSettings, resyncNanoseconds: UInt64) {
        self.settings = settings
        self.resyncNanoseconds = resyncNanoseconds
    }

    /// `realized`: what the kernel holds when this step does not know it (first pass, after a failure).
    /// `handed`: the source's changes since its previous snapshot; used when
    /// that is the one this step holds, else the snapshots are diffed.
    mutating func prepare(_ next: ClusterSnapshot, _ nextCgroups: [PodRef: CgroupID], handed: SourceChanges? = nil,
                          realized: DesiredState?, limits: StateLimits, now: UInt64) -> Pass {
        let changes: [ClusterChange]
        if let handed, let sequence, handed.since == sequence {
            changes = handed.changes + ClusterChange.between(ClusterSnapshot(), ClusterSnapshot(), oldCgroups: cgroups, newCgroups: nextCgroups)
        } else {
            changes = ClusterChange.between(snapshot, next, oldCgroups: cgroups, newCgroups: nextCgroups)
        }
        sequence = handed?.sequence
        let resyncDue = lastFullNanoseconds.map { now &- $0 >= resyncNanoseconds } ?? true
        if incremental != nil, kernelInStep, !resyncDue {
            // In place: a copy of the compiler would make its next write copy every map.
            incremental!.apply(changes)
            snapshot = next
            cgroups = nextCgroups
            let transition = incremental!.pendingTransition()
            return Pass(compilation: incremental!.compilation, operations: transition.operations,
                        exceeded: limits.violations(final: transition.final, peak: transition.peak), full: false, changes: changes)
        }

        let base = kernelInStep ? incremental?.committedState : realized
        if incremental != nil { incremental!.apply(changes) }
        let compilation = PolicyCompiler.compile(next, settings: settings, localCgroups: nextCgroups,
                                                 previous: incremental?.allocation ?? allocation)
        var differences: Int?
        var summary: String?
        if let current = incremental {
            let found = StateDiff.operations(from: current.state, to: compilation.state)
            differences = found.count + (compilation.allocation == current.allocation ? 0 : 1)
            if differences != 0 {
                summary = Self.describe(found)
                incremental = nil
            }
        }
        // First pass, a repair, or a retry after the compiler was set aside:
        // (re)build it, and use it only if it agrees with the full compile.
        if incremental == nil, resyncDue || differences != nil {
            let built = IncrementalCompiler(snapshot: next, settings: settings, localCgroups: nextCgroups,
                                            previous: compilation.allocation)
            if built.state == compilation.state, built.allocation == compilation.allocation {
                incremental = built
            } else {
                summary = (summary.map { $0 + "; " } ?? "") + "the compiler rebuilt from the snapshot disagrees too: every pass compiles in full until the next resync"
            }
        }
        if resyncDue { lastFullNanoseconds = now }
        allocation = compilation.allocation
        snapshot = next
        cgroups = nextCgroups
        // Through the bridge when pointers move (TransitionBridge), as always.
        let bridge = TransitionBridge.bridge(from: base, to: compilation.state)
        var operations = StateDiff.operations(from: base, to: bridge)
        if bridge != compilation.state { operations += StateDiff.operations(from: bridge, to: compilation.state) }
        return Pass(compilation: compilation, operations: operations, exceeded: limits.violations(from: base, to: bridge),
                    full: true, differences: differences, summary: summary)
    }

    /// The pass's operations are in the kernel.
    mutating func written() {
        incremental?.discardOperations()
        kernelInStep = incremental != nil
    }

    /// Not written, or partly: the next pass is a full one against what the kernel holds.
    mutating func notWritten() {
        kernelInStep = false
    }

    /// A few of the differing entries, for the log line.
    static func describe(_ operations: [MapOperation]) -> String {
        var counts: [String: Int] = [:]
        for operation in operations {
            let map: String
            switch operation {
            case .setConfig: map = "config"
            case .updateCIDR, .deleteCIDR: map = "cidrs"
            case .updatePolicy, .deletePolicy: map = "policy"
            case .updateAddress, .deleteAddress: map = "addresses"
            case .updateEndpoint, .deleteEndpoint: map = "endpoints"
            }
            counts[map, default: 0] += 1
        }
        let perMap = counts.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ")
        let first = operations.prefix(3).map { "\($0)" }.joined(separator: "; ")
        return operations.isEmpty ? "the numbering differs" : "\(perMap) entries (first: \(first))"
    }
}
