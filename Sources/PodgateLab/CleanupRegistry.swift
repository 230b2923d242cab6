#if canImport(Glibc)
import Glibc
#endif
import PodgateModel

/// Every kernel object and process of one lab run, written down BEFORE it is
/// created, one line each, in DIRECTORY/<run>.state:
///
///     runner <pid> <start-time>     the lab process itself
///     tmp <dir>                     manifests, logs, agent state
///     cgroup <dir>                  a cgroup tree of the run (processes inside are killed)
///     pin <dir>                     a bpffs pin directory
///     netns <name>                  /run/netns/<name>
///     pid <pid> <start-time>        a helper or agent we started
///     restore <path> <value>        a control file (a sysctl) to set back
///
/// Appending a line is atomic enough for a crash at any point; `cleanupLeftovers`
/// reads the files of runs whose runner is gone and removes the rest. Start
/// times (from /proc/PID/stat) keep a recycled pid from being killed. Only
/// names that carry the `podgate` prefix are ever removed.
public final class CleanupRegistry {
    public let directory: String
    public let run: String
    public let path: String
    public private(set) var tmpDirs: [String] = []
    public private(set) var cgroups: [String] = []
    public private(set) var pins: [String] = []
    public private(set) var netns: [String] = []
    public private(set) var pids: [(pid: pid_t, start: UInt64)] = []
    public private(set) var restores: [(path: String, value: String)] = []
    public private(set) var runner: (pid: pid_t, start: UInt64)?
    /// false for a state read back by `cleanupLeftovers`: its processes are not our children.
    let owned: Bool

    public init(directory: String, run: String) throws {
        self.directory = directory
        self.run = run
        path = "\(directory)/\(run).state"
        owned = true
        try Files.makeDirectories(directory)
        let me = getpid()
        runner = (me, Self.startTime(me) ?? 0)
        try Files.write(path, "runner \(me) \(runner!.start)\n", atomically: false)
    }

    private init(directory: String, run: String, path: String, text: String) {
        self.directory = directory
        self.run = run
        self.path = path
        owned = false
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ", maxSplits: 2).map(String.init)
            guard fields.count >= 2 else { continue }
            let third = fields.count > 2 ? fields[2] : ""
            switch fields[0] {
            case "runner": runner = (pid_t(fields[1]) ?? 0, UInt64(third) ?? 0)
            case "tmp": tmpDirs.append(fields[1])
            case "cgroup": cgroups.append(fields[1])
            case "pin": pins.append(fields[1])
            case "netns": netns.append(fields[1])
            case "pid": if let pid = pid_t(fields[1]) { pids.append((pid, UInt64(third) ?? 0)) }
            case "restore": restores.append((fields[1], third))
            default: continue
            }
        }
    }

    public func recordTmp(_ dir: String) throws { tmpDirs.append(dir); try note("tmp \(dir)") }
    public func recordCgroup(_ dir: String) throws { cgroups.append(dir); try note("cgroup \(dir)") }
    public func recordPin(_ dir: String) throws { pins.append(dir); try note("pin \(dir)") }
    public func recordNetns(_ name: String) throws { netns.append(name); try note("netns \(name)") }
    public func recordProcess(_ pid: pid_t) {
        let start = Self.startTime(pid) ?? 0
        pids.append((pid, start))
        try? note("pid \(pid) \(start)")
    }
    /// Remembers a control file's current value, to write back at cleanup.
    public func recordRestore(_ path: String) throws {
        guard !restores.contains(where: { $0.path == path }) else { return }
        let value = try Files.read(path).trimmingWhitespace
        restores.append((path, value))
        try note("restore \(path) \(value)")
    }
    public func forgetProcess(_ pid: pid_t) { pids.removeAll { $0.pid == pid } }
    public func forgetNetns(_ name: String) { netns.removeAll { $0 == name } }
    public func forgetPin(_ dir: String) { pins.removeAll { $0 == dir } }

    private func note(_ line: String) throws { try Files.append(path, line + "\n") }

    /// A directory this lab may remove: its own name starts with `podgate-`.
    static func isOurs(_ path: String) -> Bool { path.split(separator: "/").last?.hasPrefix("podgate-") == true }

    /// Field 22 of /proc/PID/stat, counted after the command's closing parenthesis.
    public static func startTime(_ pid: pid_t) -> UInt64? {
        guard let text = try? Files.read("/proc/\(pid)/stat"), let close = text.lastIndex(of: ")") else { return nil }
        let fields = text[text.index(after: close)...].split(separator: " ")
        return fields.count > 19 ? UInt64(fields[19]) : nil
    }

    public static func isAlive(_ pid: pid_t, start: UInt64) -> Bool {
        guard pid > 0, let actual = startTime(pid) else { return false }
        return start == 0 || actual == start
    }

    /// Removes everything, in an order that works: processes first (a cgroup
    /// with members cannot go), then pins, namespaces, cgroups, files, and
    /// finally the control files are set back. `removePin` removes one pin
    /// directory (the datapath detaches its links); by default the files go.
    /// Returns the problems; never throws, so it can run on every path.
    @discardableResult
    public func removeAll(ip: IPCommand?, removePin: (String) -> [String] = { Files.removeTree($0) }) -> [String] {
        var problems: [String] = []
        for entry in pids.reversed() {
            if owned {
                Processes.stop(entry.pid, grace: 0.5)
            } else if Self.isAlive(entry.pid, start: entry.start) {
                kill(entry.pid, SIGKILL)
            }
        }
        pids = []
        let cgroups = cgroups.filter(Self.isOurs)
        // Anything still inside the run's cgroups was started by this run (a child of ours).
        for cgroup in cgroups { CgroupTree.killAll(cgroup) }
        for pin in pins where pin.hasPrefix("/sys/fs/bpf/podgate") { problems += removePin(pin) }
        if let ip {
            for name in netns.reversed() where name.hasPrefix("podgate-") {
                if let problem = ip.deleteNetns(name) { problems.append(problem) }
            }
        } else if !netns.isEmpty {
            problems.append("cannot delete network namespaces without iproute2")
        }
        for cgroup in cgroups.reversed() { problems += CgroupTree.removeTree(cgroup, timeout: 3) }
        for dir in tmpDirs where Self.isOurs(dir) { problems += Files.removeTree(dir) }
        for entry in restores {
            do { try Files.writeControl(entry.path, entry.value + "\n") } catch { problems.append("\(error)") }
        }
        if problems.isEmpty { unlink(path) }
        return problems
    }

    /// The leftovers of runs in `directory` whose runner has exited. A run
    /// still going is left alone. `log` gets one line per run.
    public static func cleanupLeftovers(directory: String, removePin: (String) -> [String] = { Files.removeTree($0) },
                                        log: (String) -> Void) -> (removed: Int, problems: [String]) {
        var removed = 0
        var problems: [String] = []
        let ip = try? IPCommand()
        for name in Files.list(directory) where name.hasSuffix(".state") {
            let path = "\(directory)/\(name)"
            guard let text = try? Files.read(path) else { continue }
            let state = CleanupRegistry(directory: directory, run: String(name.dropLast(6)), path: path, text: text)
            if let runner = state.runner, runner.pid != getpid(), isAlive(runner.pid, start: runner.start) {
                log("run \(state.run): still running as pid \(runner.pid); left alone")
                continue
            }
            let found = state.removeAll(ip: ip, removePin: removePin)
            problems += found
            removed += 1
            log("run \(state.run): \(state.netns.count) namespaces, \(state.cgroups.count) cgroup trees, \(state.pins.count) pin dirs\(found.isEmpty ? " removed" : ", with problems")")
        }
        return (removed, problems)
    }
}
