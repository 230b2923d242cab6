import Testing
import PodgateModel
#if canImport(Glibc)
import Glibc
#endif
@testable import PodgateCompiler

/// The incremental compiler against the full compile: seeded sequences of
/// random changes to every kind of object and every field that matters; after
/// each step the incremental state must equal the full compile of the same
/// cluster, entry for entry, and the operations it hands out must take the
/// previous state to it.
///
/// Numbering: the full compile is given the incremental compiler's
/// allocation as `previous`. `IDTable.update(live:)` keeps exactly the numbers
/// of live keys and numbers only missing ones, so if the incremental
/// allocation held a dead key or missed a live one, the full compile's
/// allocation (and with it every entry) would differ: comparing the
/// allocations proves the numbering is exactly the live set, and comparing the
/// states with the same numbering is then entry for entry (including which
/// policy index names an entry, which depends on the numbers). Stability
/// (a live key keeps its number from one step to the next) is checked apart.
@Suite struct IncrementalEquivalenceTests {
    /// Sized for CI (a few seconds of CPU in a debug build). A longer walk:
    /// `PODGATE_EQUIVALENCE=SEQUENCESxSTEPS[xFIRSTSEED] swift test --filter IncrementalEquivalence`.
    static let size: (sequences: Int, steps: Int, firstSeed: Int) = {
        let parts = getenv("PODGATE_EQUIVALENCE").map { String(cString: $0) }?.split(separator: "x").compactMap { Int($0) } ?? []
        return parts.count >= 2 ? (parts[0], parts[1], parts.count > 2 ? parts[2] : 1) : (12, 250, 1)
    }()
    static var sequences: Int { size.sequences }
    static var steps: Int { size.steps }

    static var seeds: [UInt64] { Array(UInt64(size.firstSeed)..<UInt64(size.firstSeed + sequences)) }

    /// One test case per seed: each holds a thread of the cooperative pool for
    /// under a second, so the suite's async tests are not starved meanwhile.
    @Test(arguments: seeds) func randomSequencesMatchTheFullCompile(seed: UInt64) {
        #expect(Self.run(seed: seed, steps: Self.steps) == Self.steps)
    }

    /// Returns the number of steps checked; stops a sequence at its first disagreement.
    static func run(seed: UInt64, steps: Int) -> Int {
        var random = SeededRandom(seed: seed &* 7919)
        let settings = ChangeGenerator.settings(&random)
        var generator = ChangeGenerator()
        var incremental = IncrementalCompiler(settings: settings)
        var cluster = ClusterSnapshot()
        var cgroups: [PodRef: CgroupID] = [:]
        var kernel = incremental.state
        for step in 0..<steps {
            let before = incremental.allocation
            // Mostly one change; sometimes a burst (several objects in one pass).
            let count = Int.random(in: 0..<8, using: &random) == 0 ? Int.random(in: 2...6, using: &random) : 1
            var changes: [ClusterChange] = []
            for _ in 0..<count {
                let change = generator.next(cluster, cgroups, &random)
                ChangeGenerator.apply(change, to: &cluster, &cgroups)
                changes.append(change)
            }
            incremental.apply(changes)
            let transition = incremental.pendingTransition()
            let operations = incremental.takeOperations()

            let full = PolicyCompiler.compile(cluster, settings: settings, localCgroups: cgroups, previous: incremental.allocation)
            let label = "seed \(seed) step \(step) after \(String(describing: changes).prefix(1500))"
            // The writes are exactly those of the full path: bridge, diff, unbridge.
            let bridge = TransitionBridge.bridge(from: kernel, to: full.state)
            var expected = StateDiff.operations(from: kernel, to: bridge)
            if bridge != full.state { expected += StateDiff.operations(from: bridge, to: full.state) }
            guard operations == expected, transition.operations == operations else {
                Issue.record("\(label): operations differ from the full path's\nexpected \(expected)\nincremental \(operations)")
                return step
            }
            let (final, peak) = Self.counts(from: kernel, to: bridge)
            guard transition.final == final, transition.peak == peak else {
                Issue.record("\(label): map counts differ: \(transition.final) \(transition.peak), expected \(final) \(peak)")
                return step
            }
            kernel = kernel.applying(operations)
            guard full.allocation == incremental.allocation else {
                Issue.record("\(label): allocation differs\nfull \(full.allocation)\nincremental \(incremental.allocation)")
                return step
            }
            guard full.state == incremental.state else {
                Issue.record("\(label): state differs\n\(Self.difference(full.state, incremental.state))")
                return step
            }
            guard kernel == incremental.state else {
                Issue.record("\(label): the operations do not lead to the state\n\(Self.difference(incremental.state, kernel))")
                return step
            }
            guard full.diagnostics == incremental.diagnostics else {
                Issue.record("\(label): diagnostics differ\nfull \(full.diagnostics)\nincremental \(incremental.diagnostics)")
                return step
            }
            guard incremental.snapshot == cluster else {
                Issue.record("\(label): the compiler's cluster differs from the test's")
                return step
            }
            if let moved = Self.renumbered(before, incremental.allocation) {
                Issue.record("\(label): a live key changed its number: \(moved)")
                return step
            }
            // The resync's repair path: a compiler rebuilt from the snapshot keeps every number.
            if step % 50 == 49 {
                let rebuilt = IncrementalCompiler(snapshot: cluster, settings: settings, localCgroups: cgroups,
                                                  previous: incremental.allocation)
                guard rebuilt.state == incremental.state, rebuilt.allocation == incremental.allocation else {
                    Issue.record("\(label): the compiler rebuilt from the snapshot differs\n\(Self.difference(incremental.state, rebuilt.state))")
                    return step
                }
            }
        }
        return steps
    }

    static func counts(from old: DesiredState, to new: DesiredState) -> (StateLimits.Counts, StateLimits.Counts) {
        var final = StateLimits.Counts()
        final.endpoints = new.endpoints.count
        final.addresses = new.addresses.count
        final.cidrs = new.cidrs.count
        final.policy = new.policy.count
        var peak = final
        peak.endpoints += old.endpoints.keys.filter { new.endpoints[$0] == nil }.count
        peak.addresses += old.addresses.keys.filter { new.addresses[$0] == nil }.count
        peak.cidrs += old.cidrs.keys.filter { new.cidrs[$0] == nil }.count
        peak.policy += old.policy.keys.filter { new.policy[$0] == nil }.count
        return (final, peak)
    }

    /// A key live before and after whose number changed.
    static func renumbered(_ a: Allocation, _ b: Allocation) -> String? {
        func check<Key>(_ x: IDTable<Key>, _ y: IDTable<Key>) -> String? {
            for (key, id) in x.ids { if let other = y.ids[key], other != id { return "\(key): \(id) -> \(other)" } }
            return y.next >= x.next ? nil : "counter went down"
        }
        return check(a.identities, b.identities) ?? check(a.targetClasses, b.targetClasses) ?? check(a.cidrClasses, b.cidrClasses)
            ?? check(a.pods, b.pods) ?? check(a.policies, b.policies)
    }

    static func difference(_ expected: DesiredState, _ actual: DesiredState) -> String {
        let operations = StateDiff.operations(from: expected, to: actual)
        return "expected -> actual: " + operations.prefix(12).map { "\($0)" }.joined(separator: "\n  ")
    }

    /// Hand-made cases the random walk might take long to reach.
    @Test func snapshotDiffAndRebuildAgree() {
        var random = SeededRandom(seed: 42)
        let settings = ChangeGenerator.settings(&random)
        var generator = ChangeGenerator()
        var cluster = ClusterSnapshot()
        var cgroups: [PodRef: CgroupID] = [:]
        for _ in 0..<300 {
            let change = generator.next(cluster, cgroups, &random)
            ChangeGenerator.apply(change, to: &cluster, &cgroups)
        }
        var incremental = IncrementalCompiler(settings: settings)
        incremental.apply(ClusterChange.between(ClusterSnapshot(), cluster, newCgroups: cgroups))
        let full = PolicyCompiler.compile(cluster, settings: settings, localCgroups: cgroups, previous: incremental.allocation)
        #expect(full.state == incremental.state)
        #expect(full.allocation == incremental.allocation)
        let rebuilt = IncrementalCompiler(snapshot: cluster, settings: settings, localCgroups: cgroups)
        let fresh = PolicyCompiler.compile(cluster, settings: settings, localCgroups: cgroups)
        // Both number new keys in a pass in their own order; with a fresh
        // allocation the full compile sorts them, so compare with shared numbers.
        #expect(PolicyCompiler.compile(cluster, settings: settings, localCgroups: cgroups, previous: rebuilt.allocation).state == rebuilt.state)
        #expect(fresh.state.policy.count == rebuilt.state.policy.count)
        #expect(!cluster.pods.isEmpty && !cluster.policies.isEmpty)
    }
}
