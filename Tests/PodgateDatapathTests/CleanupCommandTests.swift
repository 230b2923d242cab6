import CLibbpf
import Foundation
import PodgateTestSupport
import PodgateCgroups
import Testing
@testable import PodgateDatapath

/// `podgate agent --cleanup`, the real executable, after a real agent ran:
/// it detaches podgate's links and removes its pins, leaves a foreign
/// program on the same cgroup and hook and a foreign pin in the same
/// directory, says what it removed and what it left, exits 0; run again it
/// is a no-op and says so.
@Suite(.serialized, .kernel)
struct CleanupCommandTests {
    static func cleanup(_ pinDirectory: String) throws -> (status: Int32, output: String) {
        try Command.status(executable: AgentHarness.executable!, ["agent", "--cleanup", "--pin-dir", pinDirectory])
    }

    @Test func cleanupCommandRemovesOnlyPodgatesAndSaysWhat() async throws {
        let harness = try AgentHarness()
        defer { harness.tearDown() }
        let pins = harness.sandbox.pinDirectory
        for pod in ["frontend", "backend"] { try harness.makePodCgroup(pod) }
        try harness.write(AgentLifecycleTests.basePods.merging(["policy.yaml": Manifests.policy("p", target: "backend", ports: [8080], sources: ["frontend"])]) { $1 })
        try harness.startAgent()
        try await harness.waitAppliedAsync()
        // Attached and pinned (the maps' rename from staging comes last).
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline && !(access(PinLayout(root: pins).current, F_OK) == 0 && access(PinLayout(root: pins).staging, F_OK) != 0) { try await Task.sleep(for: .milliseconds(20)) }
        harness.stopAgent()  // the pins and links outlive the agent, by design
        let links = PinLayout.entries(pins).filter { $0.hasPrefix("link_") }
        try #require(links.count >= 5, "pins: \(PinLayout.entries(pins)); agent log:\n\(harness.log)")
        let cgroup = harness.sandbox.cgroupPath
        #expect(try CgroupAttachments.programs(at: cgroup).values.reduce(0) { $0 + $1.count } == links.count)

        // Someone else's program on the same cgroup and hook, pinned in our directory.
        let foreign = try UpgradeAndCleanupTests.foreignProgram()
        defer { close(foreign) }
        let cgroupFD = open(cgroup, O_RDONLY | O_DIRECTORY)
        defer { close(cgroupFD) }
        #expect(bpf_prog_attach(foreign, cgroupFD, BPF_CGROUP_INET_INGRESS, UInt32(BPF_F_ALLOW_MULTI)) == 0)
        defer { bpf_prog_detach2(foreign, cgroupFD, BPF_CGROUP_INET_INGRESS) }
        #expect(bpf_obj_pin(foreign, pins + "/someone_else") == 0)
        defer { unlink(pins + "/someone_else") }
        var info = bpf_prog_info()
        var length = UInt32(MemoryLayout<bpf_prog_info>.size)
        #expect(bpf_obj_get_info_by_fd(foreign, &info, &length) == 0)

        let first = try Self.cleanup(pins)
        print("cleanup, first run (exit \(first.status)):\n\(first.output)")
        #expect(first.status == 0)
        for link in links { #expect(first.output.contains(link), "not reported as removed: \(link)") }
        #expect(first.output.contains("/podgate_endpts") && first.output.contains("/podgate_policy"), "\(first.output)")
        #expect(first.output.contains("left in place (not podgate's): someone_else"), "\(first.output)")
        let attached = try CgroupAttachments.programs(at: cgroup)
        #expect(attached["cgroup_skb/ingress"] == [info.id], "the foreign program survives alone: \(attached)")
        #expect(attached.filter { $0.key != "cgroup_skb/ingress" }.values.allSatisfy { $0.isEmpty }, "\(attached)")
        #expect(PinLayout.entries(pins) == ["someone_else"])

        let second = try Self.cleanup(pins)
        print("cleanup, second run (exit \(second.status)):\n\(second.output)")
        #expect(second.status == 0)
        #expect(second.output.contains("nothing of podgate's to remove"), "\(second.output)")
        #expect(!second.output.contains("removed from"), "\(second.output)")
        #expect(PinLayout.entries(pins) == ["someone_else"])
        #expect(try CgroupAttachments.programs(at: cgroup)["cgroup_skb/ingress"] == [info.id])

        // The foreign pin gone, the (empty) directory goes too; then nothing is left to do.
        unlink(pins + "/someone_else")
        let third = try Self.cleanup(pins)
        #expect(third.status == 0 && third.output.contains("removed \(pins)"), "\(third.output)")
        #expect(access(pins, F_OK) != 0)
        let fourth = try Self.cleanup(pins)
        #expect(fourth.status == 0 && fourth.output.contains("nothing to clean up"), "\(fourth.output)")
    }
}
