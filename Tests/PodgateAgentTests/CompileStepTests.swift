import PodgateTestSupport
import Testing
import PodgateCompiler
import PodgateModel
@testable import PodgateAgent

/// The agent's compile step: incremental passes between full resyncs, and a
/// resync that finds, reports and repairs a difference.
@Suite struct CompileStepTests {
    static let settings = AgentSettings(defaultInboundPolicy: .deny, nodeName: "a")

    /// Two pods and a policy between them; without the frontend, the backend alone.
    static func cluster(backendLabel: String = "backend", withFrontend: Bool = true) -> (ClusterSnapshot, [PodRef: CgroupID]) {
        let frontend = Pod(namespace: "demo", name: "frontend", labels: ["app": "frontend"], nodeName: "a",
                           addresses: [IPAddress("10.244.0.10")!])
        let backend = Pod(namespace: "demo", name: "backend", labels: ["app": backendLabel],
                          ports: [ContainerPort(name: "http", port: 8080)], nodeName: "a", addresses: [IPAddress("10.244.0.11")!])
        let policy = Policy(namespace: "demo", name: "frontend-to-backend", target: LabelSelector(matchLabels: ["app": "backend"]),
                            ports: [PolicyPort(port: .named("http"))],
                            sources: [PolicySource(podSelector: LabelSelector(matchLabels: ["app": "frontend"]))])
        var pods = [backend.ref: backend]
        var cgroups = [backend.ref: CgroupID(12)]
        if withFrontend {
            pods[frontend.ref] = frontend
            cgroups[frontend.ref] = CgroupID(11)
        }
        let snapshot = ClusterSnapshot(namespaces: ["demo": Namespace(name: "demo")], pods: pods, policies: [policy.ref: policy])
        return (snapshot, cgroups)
    }

    @Test func passesBetweenResyncsAreIncrementalAndLeadToTheFullCompile() {
        var step = CompileStep(settings: Self.settings, resyncNanoseconds: 1_000)
        let (first, cgroups) = Self.cluster(backendLabel: "backend")
        var kernel = DesiredState(config: DatapathConfig(allowFromHost: true, denyUnknownPods: true))
        var pass = step.prepare(first, cgroups, realized: kernel, limits: StateLimits(), now: 0)
        #expect(pass.full)
        kernel = kernel.applying(pass.operations)
        step.written()
        #expect(step.kernelInStep)

        let (second, _) = Self.cluster(backendLabel: "other")
        pass = step.prepare(second, cgroups, realized: nil, limits: StateLimits(), now: 500)
        #expect(!pass.full)
        kernel = kernel.applying(pass.operations)
        step.written()
        let full = PolicyCompiler.compile(second, settings: Self.settings, localCgroups: cgroups, previous: pass.compilation.allocation)
        #expect(kernel == full.state)
        #expect(!pass.operations.isEmpty)

        // The timer: a full pass that finds nothing to repair.
        pass = step.prepare(first, cgroups, realized: nil, limits: StateLimits(), now: 2_000)
        #expect(pass.full)
        #expect(pass.differences == 0)
        kernel = kernel.applying(pass.operations)
        step.written()
        #expect(kernel == PolicyCompiler.compile(first, settings: Self.settings, localCgroups: cgroups, previous: pass.compilation.allocation).state)
    }

    @Test func aResyncReportsAndRepairsADifference() {
        var step = CompileStep(settings: Self.settings, resyncNanoseconds: 1_000)
        let (first, cgroups) = Self.cluster(backendLabel: "backend")
        var kernel = DesiredState(config: DatapathConfig(allowFromHost: true, denyUnknownPods: true))
        let pass = step.prepare(first, cgroups, realized: kernel, limits: StateLimits(), now: 0)
        kernel = kernel.applying(pass.operations)
        step.written()

        // A compiler that went wrong: it believes the backend is relabelled.
        // (The kernel holds what it believes: its state is what was written.)
        let (wrong, _) = Self.cluster(backendLabel: "other")
        step.incremental = IncrementalCompiler(snapshot: wrong, settings: Self.settings, localCgroups: cgroups,
                                               previous: pass.compilation.allocation)
        let believed = step.incremental!.state
        let repair = step.prepare(first, cgroups, realized: nil, limits: StateLimits(), now: 5_000)
        #expect(repair.full)
        #expect((repair.differences ?? 0) > 0)
        #expect(repair.summary?.contains("policy") == true)
        let repaired = believed.applying(repair.operations)
        step.written()
        let full = PolicyCompiler.compile(first, settings: Self.settings, localCgroups: cgroups, previous: repair.compilation.allocation)
        #expect(repaired == full.state)
        #expect(step.incremental?.state == full.state)
    }
}

/// Kubernetes mode hands the changes since the source's previous snapshot
/// (issue 15, item 3): the step uses them instead of diffing two snapshots
/// when they start from the snapshot it holds, and diffs otherwise.
extension CompileStepTests {
    @Test func handedChangesAreUsedWhenTheyStartFromTheHeldSnapshotAndIgnoredOtherwise() {
        var step = CompileStep(settings: Self.settings, resyncNanoseconds: 1_000_000)
        let (first, cgroups) = CompileStepTests.cluster(backendLabel: "backend")
        let (second, _) = CompileStepTests.cluster(backendLabel: "other")
        let backend = PodRef(namespace: "demo", name: "backend")
        var kernel = DesiredState(config: DatapathConfig(allowFromHost: true, denyUnknownPods: true))
        var pass = step.prepare(first, cgroups, handed: nil, realized: kernel, limits: StateLimits(), now: 0)
        kernel = kernel.applying(pass.operations)
        step.written()
        // Numbered 0 from now on (the source's first reading has no changes).
        pass = step.prepare(first, cgroups, handed: SourceChanges(since: 0, sequence: 0, changes: []), realized: nil,
                            limits: StateLimits(), now: 10)
        step.written()
        #expect(pass.operations.isEmpty)

        // Handed from the held snapshot: only the handed changes are looked
        // at. An empty list for a changed snapshot proves it: nothing moves.
        pass = step.prepare(second, cgroups, handed: SourceChanges(since: 0, sequence: 1, changes: []), realized: nil,
                            limits: StateLimits(), now: 20)
        #expect(!pass.full && pass.operations.isEmpty, "the snapshots were diffed instead of using the handed changes")

        // Handed from another snapshot (a reading the step never saw): diffed.
        // (A fresh step: the one above now holds a snapshot its compiler never saw.)
        var other = CompileStep(settings: Self.settings, resyncNanoseconds: 1_000_000)
        kernel = DesiredState(config: DatapathConfig(allowFromHost: true, denyUnknownPods: true))
        pass = other.prepare(first, cgroups, handed: SourceChanges(since: 0, sequence: 0, changes: []), realized: kernel,
                             limits: StateLimits(), now: 0)
        kernel = kernel.applying(pass.operations)
        other.written()
        pass = other.prepare(second, cgroups, handed: SourceChanges(since: 5, sequence: 6, changes: []), realized: nil,
                             limits: StateLimits(), now: 10)
        #expect(!pass.full && !pass.operations.isEmpty, "changes from a snapshot the step does not hold were trusted")
        kernel = kernel.applying(pass.operations)
        other.written()
        #expect(kernel == PolicyCompiler.compile(second, settings: Self.settings, localCgroups: cgroups, previous: pass.compilation.allocation).state)

        // And the real thing: the relabel back, handed as a change, leads to the full compile.
        pass = other.prepare(first, cgroups, handed: SourceChanges(since: 6, sequence: 7, changes: [.pod(backend, first.pods[backend])]),
                             realized: nil, limits: StateLimits(), now: 20)
        #expect(!pass.full && !pass.operations.isEmpty)
        kernel = kernel.applying(pass.operations)
        other.written()
        #expect(kernel == PolicyCompiler.compile(first, settings: Self.settings, localCgroups: cgroups, previous: pass.compilation.allocation).state)
    }
}
