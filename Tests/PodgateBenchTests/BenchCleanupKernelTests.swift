import Testing
import PodgateLab
import PodgateTestSupport
@testable import PodgateBench
#if canImport(Glibc)
import Glibc
#endif

/// A benchmark run that is SIGKILLed cannot clean up after itself; what it
/// wrote in its cleanup registry before creating anything is enough for
/// `podgate bench --cleanup` to remove every object it left.
@Suite(.serialized) struct BenchCleanupKernelTests {
    @Test(.kernel) func aKilledRunsObjectsAreRemovedByCleanup() throws {
        let executable = try #require(PodgateExecutable.path, "\(PodgateExecutable.missing)")
        let run = try Processes.spawn(executable, ["bench", "propagation", "--quick"], stdout: .null, stderr: .null)
        let id = "podgate-bench-\(run.pid)"
        let cgroup = try CgroupTree.mountPoint() + "/" + id
        let objects = ["/run/netns/\(id)-cli", "/run/netns/\(id)-srv", cgroup, "/tmp/\(id)"]
        // Generous: the whole suite shares two cores with other builds.
        let deadline = Monotonic.seconds + 60
        while !objects.allSatisfy(Files.exists) {
            if let status = Processes.poll(run.pid) { Issue.record("podgate bench exited (\(status)) before its pods existed"); return }
            guard Monotonic.seconds < deadline else {
                Processes.stop(run.pid)
                Issue.record("podgate bench built no pods in 60 s")
                return
            }
            usleep(20_000)
        }
        kill(run.pid, SIGKILL)
        Processes.wait(run.pid)
        #expect(objects.allSatisfy(Files.exists), "SIGKILL leaves the run's objects behind")
        #expect(Files.exists("\(Sandbox.stateDirectory)/\(id).state"))

        let cleanup = try Processes.run(executable, ["bench", "--cleanup"])
        #expect(cleanup.status == 0, "\(cleanup.output)")
        #expect(cleanup.output.contains(id), "\(cleanup.output)")
        for leftover in objects + ["\(Sandbox.stateDirectory)/\(id).state", "/sys/fs/bpf/\(id)-agent"] {
            #expect(!Files.exists(leftover), "\(leftover) is left after --cleanup")
        }
    }
}
