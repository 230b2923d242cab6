import Foundation
import PodgateModel
import PodgateTestSupport
import Testing
@testable import PodgateDatapath

/// Refusals made while no agent runs wait in the pinned ring buffer; the
/// restarted agent must report them like any other: pods, policies and the
/// real source address (they came out unnamed, with "src":"::", because
/// they were read before the first compilation).
@Suite(.serialized, .kernel)
struct DowntimeEventsTests {
    @Test func refusalsWhileTheAgentIsDownAreReportedWithNamesAfterRestart() throws {
        let harness = try AgentHarness()
        defer { harness.tearDown() }
        for pod in ["frontend", "other", "backend"] { try harness.makePodCgroup(pod) }
        try harness.write(AgentLifecycleTests.basePods.merging(
            ["policy.yaml": Manifests.policy("p", target: "backend", ports: [8080], sources: ["frontend"])]) { $1 })
        try harness.startAgent()
        try harness.waitApplied()
        harness.stopAgent()
        unlink(harness.state + "/applied-generation")

        let eventsFile = harness.directory + "/events.jsonl"
        let before = EventsFile.records(eventsFile).count
        // No agent: the kernel refuses (client side, EPERM) and queues the events.
        let probe = try harness.script(in: "other", namespace: harness.clients,
                                       ["loop", "10.201.0.3", "10.201.0.2", "0", "8080", harness.directory + "/stop-down", "0.3"]).finish()
        #expect(AgentHarness.summary(probe.lines)["denied_blocked", default: 0] > 0, "\(probe.lines)")

        try harness.startAgent()
        try harness.waitApplied()
        var refusals: [EventRecord] = []
        let deadline = Date().addingTimeInterval(10)
        repeat {
            refusals = EventsFile.records(eventsFile).dropFirst(before).filter { $0.dstPort == 8080 }
            if !refusals.isEmpty { break }
            usleep(50_000)
        } while Date() < deadline
        try #require(!refusals.isEmpty, "no event of the downtime reported:\n\(harness.log)")
        for record in refusals {
            #expect(record.srcPod == "demo/other", "\(record)")
            #expect(record.dstPod == "demo/backend", "\(record)")
            #expect(record.src == "10.201.0.3", "\(record)")
            #expect(record.reason == .notAuthorized, "\(record)")
            #expect(record.policies == ["demo/p"], "\(record)")
        }
    }
}
