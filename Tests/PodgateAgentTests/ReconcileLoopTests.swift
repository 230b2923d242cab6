import Testing
import PodgateAgent
import PodgateAgentFakes
import PodgateCompiler
import PodgateModel

/// The reconcile loop through its ports, unprivileged: a fake datapath that
/// records each diff and a fake source that answers scripted readings. The
/// agent's own files (`applied-generation`, `apply-error`) say when a pass is done.
@Suite struct ReconcileLoopTests {
    /// What the agent should hold for `cluster`, numbered as a first compile numbers it.
    static func compiled(_ cluster: (ClusterSnapshot, [PodRef: CgroupID]), after earlier: (ClusterSnapshot, [PodRef: CgroupID])? = nil) throws -> DesiredState {
        let settings = try FakeAgentRun.options(stateDirectory: "/unused").settings
        let previous = earlier.map { PolicyCompiler.compile($0.0, settings: settings, localCgroups: $0.1, previous: Allocation()).allocation }
        return PolicyCompiler.compile(cluster.0, settings: settings, localCgroups: cluster.1, previous: previous ?? Allocation()).state
    }

    /// An agent whose source is ready with `cluster` from the start, after its first pass.
    static func started(_ cluster: (ClusterSnapshot, [PodRef: CgroupID]), on datapath: FakeDatapath) async throws -> FakeAgentRun {
        let source = FakeClusterSource(reading: FakeClusterSource.ready(cluster.0, cgroups: cluster.1, generation: 1))
        let run = try FakeAgentRun(datapath: datapath, source: source)
        try await run.wait(for: "generation 1") { run.appliedGeneration == 1 }
        return run
    }

    @Test func nothingIsWrittenBeforeTheSourceIsReadyAndTheAdoptedStateStays() async throws {
        // A previous agent left the one-pod cluster in the maps.
        let source = FakeClusterSource()
        let pinned = try Self.compiled(CompileStepTests.cluster(withFrontend: false))

        let datapath = FakeDatapath(realized: pinned)
        let run = try FakeAgentRun(datapath: datapath, source: source)
        // Two passes while not ready: the second read means the first pass is over.
        try await run.wait(for: "the first read") { source.reads >= 1 }
        source.wake()
        try await run.wait(for: "a second not-ready pass") { source.reads >= 2 }
        #expect(datapath.appliedDiffs.isEmpty)
        #expect(datapath.held == pinned)
        #expect(run.appliedGeneration == nil)

        let cluster = CompileStepTests.cluster()
        try await run.pass(cluster, generation: 1)
        #expect(datapath.appliedDiffs.count == 1)
        #expect(datapath.held == (try Self.compiled(cluster)))
        try await run.stop()
    }

    @Test func aPassThatFindsNothingNewWritesNothing() async throws {
        let cluster = CompileStepTests.cluster()
        let datapath = FakeDatapath()
        let run = try await Self.started(cluster, on: datapath)
        #expect(datapath.appliedDiffs.count == 1)
        #expect(datapath.appliedDiffs.first?.isEmpty == false)

        // The same cluster again (a resync): the pass moves the generation and writes nothing.
        try await run.pass(cluster, generation: 2)
        #expect(datapath.appliedDiffs.count == 1)

        // A change is written.
        let relabelled = CompileStepTests.cluster(backendLabel: "other")
        try await run.pass(relabelled, generation: 3)
        #expect(datapath.appliedDiffs.count == 2)
        #expect(datapath.appliedDiffs.last?.isEmpty == false)
        #expect(datapath.held == (try Self.compiled(relabelled, after: cluster)))
        try await run.stop()
    }

    @Test func aFailedWriteIsReportedRetriedAndClearedBySuccess() async throws {
        let cluster = CompileStepTests.cluster()
        let datapath = FakeDatapath()
        let run = try await Self.started(cluster, on: datapath)

        // A change whose write fails: reported, and the kernel keeps the last good state.
        datapath.failWrites(1, with: FakeDatapath.WriteFailure("podgate_policy: no space left (fake)"))
        let relabelled = CompileStepTests.cluster(backendLabel: "other")
        run.source.script(FakeClusterSource.ready(relabelled.0, cgroups: relabelled.1, generation: 2))
        run.source.wake()
        try await run.wait(for: "the apply error") { run.applyError != nil }
        #expect(run.applyError?.contains("podgate_policy: no space left (fake)") == true)
        #expect(run.appliedGeneration == 1)
        #expect(datapath.held == (try Self.compiled(cluster)))

        // The next pass (a wake-up or the resync) writes the change again, from what the kernel holds.
        run.source.wake()
        try await run.wait(for: "generation 2") { run.appliedGeneration == 2 }
        #expect(run.applyError == nil)
        #expect(datapath.appliedDiffs.count == 3)
        #expect(datapath.held == (try Self.compiled(relabelled, after: cluster)))
        try await run.stop()
    }

    @Test func pinnedStateIsAdoptedAndDiffedNeverFlushed() async throws {
        let cluster = CompileStepTests.cluster()
        var pinned = try Self.compiled(cluster)
        // What the previous agent held, plus a pod that went while no agent ran.
        let stale = CgroupID(99)
        pinned.endpoints[stale] = pinned.endpoints.values.first

        let datapath = FakeDatapath(realized: pinned)
        let run = try await Self.started(cluster, on: datapath)
        // One write: the stale entry goes, nothing else is touched.
        #expect(datapath.appliedDiffs == [[.deleteEndpoint(stale)]])
        #expect(datapath.held == (try Self.compiled(cluster)))
        try await run.stop()
    }

    @Test func aWriteThatChangesTheMapsRunsRevocationAndAnUnchangedPassDoesNot() async throws {
        let revoker = FakeRevoker(problems: ["fake: one namespace could not be entered"])
        let cluster = CompileStepTests.cluster()
        let run = try await Self.started(cluster, on: FakeDatapath(revoker: revoker))
        // The first write came before the iterators were loaded: revoked once they are.
        try await run.wait(for: "the first revocation pass") { revoker.passes == 1 }
        try await run.pass(cluster, generation: 2)
        #expect(revoker.passes == 1)
        try await run.pass(CompileStepTests.cluster(backendLabel: "other"), generation: 3)
        #expect(revoker.passes == 2)
        let revocation = try AgentServicesTests.status(run).revocation ?? ""
        #expect(revocation.hasPrefix("on: "))
        #expect(revocation.contains("last pass: fake: one namespace could not be entered"))
        try await run.stop()
    }
}
