import Testing
@testable import PodgateLab
#if canImport(Glibc)
import Glibc
#endif

/// The registry written before anything is created is enough to remove a
/// run's objects later, from another process's point of view: these objects
/// need no privileges (a directory and a "control file" under /tmp).
@Suite struct CleanupRegistryTests {
    static func scratch() throws -> String {
        let dir = "/tmp/podgate-labtest-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try Files.makeDirectories(dir)
        return dir
    }

    @Test func aDeadRunsLeftoversAreRemovedAndControlFilesSetBack() throws {
        let root = try Self.scratch()
        defer { Files.removeTree(root) }
        let states = root + "/states"
        let control = root + "/setting"
        try Files.write(control, "0\n", atomically: false)
        let tmp = root + "/podgate-run-files"

        let registry = try CleanupRegistry(directory: states, run: "podgate-labtest")
        try registry.recordTmp(tmp)
        try Files.makeDirectories(tmp + "/deep")
        try Files.write(tmp + "/deep/file", "x")
        try registry.recordRestore(control)
        try Files.writeControl(control, "1\n")
        try registry.recordRestore(control)  // a second call keeps the first value
        #expect(Files.list(states) == ["podgate-labtest.state"])

        // Read back from the state file alone (the runner is this process, so not "still running elsewhere").
        var lines: [String] = []
        let result = CleanupRegistry.cleanupLeftovers(directory: states) { lines.append($0) }
        #expect(result.removed == 1)
        #expect(result.problems.isEmpty)
        #expect(!Files.exists(tmp))
        #expect(try Files.read(control) == "0\n")
        #expect(Files.list(states).isEmpty)
        #expect(lines.count == 1)
    }

    @Test func aRunWhoseRunnerLivesIsLeftAlone() throws {
        let root = try Self.scratch()
        defer { Files.removeTree(root) }
        let tmp = root + "/podgate-still-running"
        try Files.makeDirectories(tmp)
        // The parent of this test process is alive and is not us: its run is in progress.
        let parent = getppid()
        let start = try #require(CleanupRegistry.startTime(parent))
        try Files.makeDirectories(root + "/states")
        try Files.write(root + "/states/other.state", "runner \(parent) \(start)\ntmp \(tmp)\n", atomically: false)
        let result = CleanupRegistry.cleanupLeftovers(directory: root + "/states") { _ in }
        #expect(result.removed == 0)
        #expect(Files.exists(tmp))
    }

    @Test func onlyPodgateNamesAreEverRemoved() throws {
        let root = try Self.scratch()
        defer { Files.removeTree(root) }
        let foreign = root + "/not-ours"
        try Files.makeDirectories(foreign)
        let registry = try CleanupRegistry(directory: root + "/states", run: "podgate-labtest")
        try registry.recordTmp(foreign)
        try registry.recordPin("/sys/fs/bpf/someone-else")
        var pinsAsked: [String] = []
        #expect(registry.removeAll(ip: nil, removePin: { pinsAsked.append($0); return [] }).isEmpty)
        #expect(Files.exists(foreign))
        #expect(pinsAsked.isEmpty)
    }

    @Test func aRecycledPidIsNotTakenForTheRunner() throws {
        let me = getpid()
        let start = try #require(CleanupRegistry.startTime(me))
        #expect(CleanupRegistry.isAlive(me, start: start))
        #expect(!CleanupRegistry.isAlive(me, start: start + 1))
    }
}
