import PodgateDatapath
#if canImport(Glibc)
import Glibc
#endif

nonisolated(unsafe) private var interruptSignal: sig_atomic_t = 0

/// Ctrl-C and SIGTERM only set a flag; the benchmark checks it between
/// steps (each at most a second or two) and unwinds through its cleanup.
enum Interrupts {
    static func install() {
        signal(SIGINT) { interruptSignal = $0 }
        signal(SIGTERM) { interruptSignal = $0 }
    }
    static var received: Int32 { Int32(interruptSignal) }
    static func check() throws {
        if interruptSignal != 0 { throw BenchError("interrupted by signal \(interruptSignal); cleaning up") }
    }
}

/// Everything one benchmark run creates, by name, so it is all removed at the
/// end, after a failure, after Ctrl-C, and (for a crashed run) by the next
/// run or `podgate bench --cleanup`. Every name starts with `podgate-bench-PID`.
///
///     /run/netns/podgate-bench-PID-cli, -srv the pods (with any firewall rules inside them)
///     <cgroup2>/podgate-bench-PID/...       pod cgroups, the agent's cgroup, every helper process
///     /sys/fs/bpf/podgate-bench-PID[-agent] pinned maps and links
///     /tmp/podgate-bench-PID                manifests and logs
///
/// Nothing touches the root network namespace or its firewall.
final class Sandbox {
    static let prefix = "podgate-bench-"
    let id: String
    let cgroup2: String
    let cgroupRoot: String
    let tmp: String
    private var namespaces: [String] = []
    private var pins: [String] = []
    private var statsEnabledBefore: String?

    init() throws {
        id = Self.prefix + String(getpid())
        cgroup2 = try Host.cgroup2Mount()
        cgroupRoot = cgroup2 + "/" + id
        tmp = "/tmp/" + id
        Self.sweepLeftovers()
        try Host.makeDirectories(cgroupRoot + "/agent")  // the agent and other long-lived helpers
        try Host.makeDirectories(tmp)
    }

    func pin(_ suffix: String) -> String {
        let path = "/sys/fs/bpf/\(id)\(suffix)"
        pins.append(path)
        return path
    }

    func addNetns(_ name: String) throws {
        namespaces.append(name)
        try Child.run("/usr/sbin/ip", ["netns", "add", name])
    }

    /// Turns on kernel.bpf_stats_enabled for the run; restored at cleanup.
    func enableBPFStats() {
        let path = "/proc/sys/kernel/bpf_stats_enabled"
        if statsEnabledBefore == nil {
            statsEnabledBefore = (try? Host.read(path))?.trimmed ?? "0"
            // For the sweep, should this run be killed before it restores the setting.
            try? Host.writeFile(tmp + "/bpf_stats_enabled.before", statsEnabledBefore! + "\n")
        }
        try? Host.writeControl(path, "1\n")
    }

    func cleanup() {
        Self.removeCgroupTree(cgroupRoot)
        for pin in pins { _ = try? DatapathLoader.detachAndRemove(pinDirectory: pin) }
        for name in namespaces { _ = try? Child.run("/usr/sbin/ip", ["netns", "delete", name], check: false) }
        _ = try? Child.run("/bin/rm", ["-rf", tmp], check: false)
        if let value = statsEnabledBefore { try? Host.writeControl("/proc/sys/kernel/bpf_stats_enabled", value + "\n") }
    }

    /// Kills every process in the tree (cgroup.kill), then removes it, children first.
    static func removeCgroupTree(_ path: String) {
        guard Host.isDirectory(path) else { return }
        try? Host.writeControl(path + "/cgroup.kill", "1\n")
        for name in Host.list(path) where Host.isDirectory(path + "/" + name) { removeCgroupTree(path + "/" + name) }
        let deadline = Host.seconds + 3
        while rmdir(path) != 0 && errno == EBUSY && Host.seconds < deadline { usleep(10_000) }
    }

    /// Removes what runs whose process is gone left behind. Returns what it removed.
    @discardableResult
    static func sweepLeftovers() -> [String] {
        var removed: [String] = []
        func stale(_ name: String) -> Bool {
            guard name.hasPrefix(prefix) else { return false }
            let digits = name.dropFirst(prefix.count).prefix(while: { $0.isNumber })
            guard let pid = Int32(digits), pid != getpid() else { return false }
            return !Host.exists("/proc/\(pid)")
        }
        if let cgroup2 = try? Host.cgroup2Mount() {
            for name in Host.list(cgroup2) where stale(name) { removeCgroupTree(cgroup2 + "/" + name); removed.append(cgroup2 + "/" + name) }
        }
        for name in Host.list("/sys/fs/bpf") where stale(name) {
            _ = try? DatapathLoader.detachAndRemove(pinDirectory: "/sys/fs/bpf/" + name)
            removed.append("/sys/fs/bpf/" + name)
        }
        for name in Host.list("/run/netns") where stale(name) {
            _ = try? Child.run("/usr/sbin/ip", ["netns", "delete", name], check: false)
            removed.append("netns " + name)
        }
        for name in Host.list("/tmp") where stale(name) {
            if let before = try? Host.read("/tmp/\(name)/bpf_stats_enabled.before") {
                try? Host.writeControl("/proc/sys/kernel/bpf_stats_enabled", before.trimmed + "\n")
                removed.append("kernel.bpf_stats_enabled restored to \(before.trimmed)")
            }
            _ = try? Child.run("/bin/rm", ["-rf", "/tmp/" + name], check: false)
            removed.append("/tmp/" + name)
        }
        return removed
    }
}

extension String {
    var trimmed: String {
        var s = Substring(self)
        while let c = s.first, c.isWhitespace { s.removeFirst() }
        while let c = s.last, c.isWhitespace { s.removeLast() }
        return String(s)
    }
}
