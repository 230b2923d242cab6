import PodgateLab
import PodgateDatapath
#if canImport(Glibc)
import Glibc
#endif

/// Everything one benchmark run creates, recorded in the lab's cleanup
/// registry (/run/podgate-bench/ID.state) before it is created, so it is all
/// removed at the end, after a failure, after Ctrl-C, and (for a crashed run)
/// by the next run or `podgate bench --cleanup`. ID is `podgate-bench-PID`.
///
///     /run/netns/ID-cli, ID-srv          the pods (with any firewall rules inside them)
///     <cgroup2>/ID/...                   pod cgroups, the agent's cgroup, every helper process
///     /sys/fs/bpf/ID[-agent]             pinned maps and links
///     /tmp/ID                            manifests and logs
///     kernel.bpf_stats_enabled           set back to what it was
///
/// Nothing touches the root network namespace or its firewall.
final class Sandbox {
    static let prefix = "podgate-bench-"
    static let stateDirectory = "/run/podgate-bench"
    let id: String
    let cgroup2: String
    let cgroupRoot: String
    let tmp: String
    let ip: IPCommand
    private let registry: CleanupRegistry

    init() throws {
        id = Self.prefix + String(getpid())
        cgroup2 = try CgroupTree.mountPoint()
        cgroupRoot = cgroup2 + "/" + id
        tmp = "/tmp/" + id
        ip = try IPCommand()
        Self.sweepLeftovers()
        registry = try CleanupRegistry(directory: Self.stateDirectory, run: id)
        try registry.recordCgroup(cgroupRoot)
        try registry.recordTmp(tmp)
        try Files.makeDirectories(cgroupRoot + "/agent")  // the agent and other long-lived helpers
        try Files.makeDirectories(tmp)
    }

    /// A pin directory for this run. Recorded in memory even if the state file cannot take the line.
    func pin(_ suffix: String) -> String {
        let path = "/sys/fs/bpf/\(id)\(suffix)"
        if !registry.pins.contains(path) { try? registry.recordPin(path) }
        return path
    }

    func addNetns(_ name: String) throws {
        try registry.recordNetns(name)
        try ip.addNetns(name)
    }

    /// Turns on kernel.bpf_stats_enabled for the run; restored at cleanup.
    func enableBPFStats() {
        let path = "/proc/sys/kernel/bpf_stats_enabled"
        try? registry.recordRestore(path)
        try? Files.writeControl(path, "1\n")
    }

    func cleanup() {
        for problem in registry.removeAll(ip: ip, removePin: Self.removePin) { Bench.log("cleanup: \(problem)") }
    }

    /// Pins hold links: detach them, then remove the directory.
    static func removePin(_ path: String) -> [String] {
        do { _ = try DatapathLoader.detachAndRemove(pinDirectory: path); return [] } catch { return ["\(path): \(error)"] }
    }

    /// Removes what runs whose process is gone left behind. Returns what it removed.
    @discardableResult
    static func sweepLeftovers() -> [String] {
        var removed: [String] = []
        let result = CleanupRegistry.cleanupLeftovers(directory: stateDirectory, removePin: removePin) { removed.append($0) }
        return removed + result.problems
    }
}
