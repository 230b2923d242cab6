#if canImport(Glibc)
import Glibc
#endif

/// Every kernel object and process of one run, written down BEFORE it is
/// created, one line each, in /run/podgate-sim/<run>.state:
///
///     runner <pid> <start-time>     the sim process itself
///     tmp <dir>                     manifests, logs, agent state
///     cgroup <dir>                  <cgroup2>/podgate-sim-<run> (the whole tree)
///     pin <dir>                     an agent's bpffs pin directory
///     netns <name>                  /run/netns/<name>
///     pid <pid> <start-time>        a listener or agent we started
///
/// Appending a line is atomic enough for a crash at any point; `podgate sim
/// --cleanup` reads the files of runs whose runner is gone and removes the rest.
/// Start times (from /proc/PID/stat) keep a recycled pid from being killed.
public final class RunState {
    public static let directory = "/run/podgate-sim"
    public let run: String
    public let path: String
    private(set) var tmpDirs: [String] = []
    private(set) var cgroups: [String] = []
    private(set) var pins: [String] = []
    private(set) var netns: [String] = []
    private(set) var pids: [(pid: pid_t, start: UInt64)] = []
    private(set) var runner: (pid: pid_t, start: UInt64)?
    /// false for a state read back by --cleanup: its processes are not our children.
    let owned: Bool

    init(run: String) throws {
        self.run = run
        path = "\(RunState.directory)/\(run).state"
        owned = true
        try Files.makeDirectories(RunState.directory)
        let me = getpid()
        runner = (me, RunState.startTime(me) ?? 0)
        try Files.write(path, "runner \(me) \(runner!.start)\n", atomically: false)
    }

    private init(run: String, path: String, text: String) {
        self.run = run
        self.path = path
        owned = false
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ", maxSplits: 2).map(String.init)
            guard fields.count >= 2 else { continue }
            switch fields[0] {
            case "runner": runner = (pid_t(fields[1]) ?? 0, UInt64(fields.count > 2 ? fields[2] : "") ?? 0)
            case "tmp": tmpDirs.append(fields[1])
            case "cgroup": cgroups.append(fields[1])
            case "pin": pins.append(fields[1])
            case "netns": netns.append(fields[1])
            case "pid": if let pid = pid_t(fields[1]) { pids.append((pid, UInt64(fields.count > 2 ? fields[2] : "") ?? 0)) }
            default: continue
            }
        }
    }

    func recordTmp(_ dir: String) throws { tmpDirs.append(dir); try note("tmp \(dir)") }
    func recordCgroup(_ dir: String) throws { cgroups.append(dir); try note("cgroup \(dir)") }
    func recordPin(_ dir: String) throws { pins.append(dir); try note("pin \(dir)") }
    func recordNetns(_ name: String) throws { netns.append(name); try note("netns \(name)") }
    func recordProcess(_ pid: pid_t) {
        let start = RunState.startTime(pid) ?? 0
        pids.append((pid, start))
        try? note("pid \(pid) \(start)")
    }
    func forgetProcess(_ pid: pid_t) { pids.removeAll { $0.pid == pid } }
    func forgetNetns(_ name: String) { netns.removeAll { $0 == name } }

    private func note(_ line: String) throws { try Files.append(path, line + "\n") }

    /// Field 22 of /proc/PID/stat, counted after the command's closing parenthesis.
    static func startTime(_ pid: pid_t) -> UInt64? {
        guard let text = try? Files.read("/proc/\(pid)/stat"), let close = text.lastIndex(of: ")") else { return nil }
        let fields = text[text.index(after: close)...].split(separator: " ")
        return fields.count > 19 ? UInt64(fields[19]) : nil
    }

    static func isAlive(_ pid: pid_t, start: UInt64) -> Bool {
        guard pid > 0, let actual = startTime(pid) else { return false }
        return start == 0 || actual == start
    }

    /// Removes everything, in an order that works: processes first (a cgroup
    /// with members cannot go), then pins, namespaces, cgroups, files.
    /// Returns the problems; never throws, so it can run on every path.
    @discardableResult
    func removeAll(ip: IPCommand?) -> [String] {
        var problems: [String] = []
        for entry in pids.reversed() {
            if owned {
                Processes.stop(entry.pid, grace: 0.5)
            } else if RunState.isAlive(entry.pid, start: entry.start) {
                kill(entry.pid, SIGKILL)
            }
        }
        pids = []
        // Anything still inside the run's cgroups was started by this run (a child of ours).
        for cgroup in cgroups { SimCgroups.killAll(cgroup) }
        for pin in pins where pin.hasPrefix("/sys/fs/bpf/podgate") { problems += Files.removeTree(pin) }
        if let ip {
            for name in netns.reversed() where name.hasPrefix("podgate-") {
                if let problem = ip.deleteNetns(name) { problems.append(problem) }
            }
        } else if !netns.isEmpty {
            problems.append("cannot delete network namespaces without iproute2")
        }
        for cgroup in cgroups.reversed() { problems += SimCgroups.removeTree(cgroup) }
        for dir in tmpDirs where dir.contains("podgate-sim-") { problems += Files.removeTree(dir) }
        if problems.isEmpty { unlink(path) }
        return problems
    }

    /// `podgate sim --cleanup`: the leftovers of runs whose runner has exited.
    /// A run still going is left alone.
    public static func cleanupLeftovers(log: (String) -> Void) -> (removed: Int, problems: [String]) {
        var removed = 0
        var problems: [String] = []
        let ip = try? IPCommand()
        for name in Files.list(directory) where name.hasSuffix(".state") {
            let path = "\(directory)/\(name)"
            guard let text = try? Files.read(path) else { continue }
            let state = RunState(run: String(name.dropLast(6)), path: path, text: text)
            if let runner = state.runner, runner.pid != getpid(), isAlive(runner.pid, start: runner.start) {
                log("run \(state.run): still running as pid \(runner.pid); left alone")
                continue
            }
            let found = state.removeAll(ip: ip)
            problems += found
            removed += 1
            log("run \(state.run): \(state.netns.count) namespaces, \(state.cgroups.count) cgroup trees, \(state.pins.count) pin dirs\(found.isEmpty ? " removed" : ", with problems")")
        }
        return (removed, problems)
    }
}
