#if canImport(Glibc)
import Glibc
#endif
import PodgateModel

/// `podgate sim-helper SUBCOMMAND ...`: the one helper binary every lab (the
/// simulator, the benchmark, the tests) places inside a pod. The subcommands
/// come from the modules that need them (`SimHelper.commands`,
/// `BenchHelper.commands`), plus `sysctl` and `exec` here; the executable
/// passes them all to `main`. A subcommand that acts as a pod calls `enter`
/// FIRST: it joins the cgroup (a socket's cgroup is fixed when it is created,
/// and `ip netns exec` would remount /sys), THEN enters the network namespace.
public enum InPodHelper {
    /// A subcommand: its arguments (after the command word) in, the exit status out.
    public typealias Command = @Sendable ([String]) throws -> Int32

    /// A subcommand that reads `--name value` options through the one parser.
    public static func options(_ body: @escaping @Sendable (inout HelperOptions) throws -> Int32) -> Command {
        { arguments in
            var options = try HelperOptions(arguments)
            return try body(&options)
        }
    }

    public static func main(_ arguments: [String], commands: [String: Command]) -> Int32 {
        signal(SIGPIPE, SIG_IGN)
        let all = commands.merging(builtins) { mine, _ in mine }
        guard let name = arguments.first, let command = all[name] else {
            let known = all.keys.sorted().joined(separator: "|")
            Files.standardError(arguments.first.map { "unknown sim-helper command \($0)\n" } ?? "usage: podgate sim-helper \(known) ...\n")
            return 2
        }
        do {
            return try command(Array(arguments.dropFirst()))
        } catch {
            Files.standardError("sim-helper \(name): \(error)\n")
            return 2
        }
    }

    /// Becomes a process of the pod: dies with its parent, joins `--cgroup`
    /// (`-`: none), enters `--netns`, and with `--cpu N` runs on that CPU only.
    public static func enter(_ options: inout HelperOptions, cgroupRequired: Bool) throws {
        Isolation.dieWithParent()
        if let cgroup = try cgroupRequired ? options.required("--cgroup") : options.optional("--cgroup"), cgroup != "-" {
            try CgroupTree.join(cgroup)
        }
        if let netns = try options.optional("--netns") { try Isolation.enterNetns(netns) }
        if let cpu = try options.optional("--cpu") {
            guard let number = Int(cpu), number >= 0 else { throw LabError("--cpu \(cpu) is not a CPU number") }
            try Isolation.pin(toCPU: number)
        }
    }

    ///     sysctl --netns NAME KEY=VALUE...
    ///         writes /proc/sys/KEY (dots as slashes) inside the namespace.
    ///     exec --cgroup DIR|- [--netns NAME] -- PROGRAM ARGS...
    ///         runs PROGRAM there (agents, so their cgroup can be cleaned up; firewall tools in a pod).
    static let builtins: [String: Command] = ["sysctl": options(sysctl), "exec": options(execute)]

    static func sysctl(_ options: inout HelperOptions) throws -> Int32 {
        try enter(&options, cgroupRequired: false)
        try options.finish()
        for setting in options.remaining {
            let parts = setting.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, !parts[0].contains("..") else { throw LabError("\(setting) is not KEY=VALUE") }
            try Files.write("/proc/sys/" + String(parts[0].map { $0 == "." ? "/" : $0 }), parts[1] + "\n", atomically: false)
        }
        return 0
    }

    static func execute(_ options: inout HelperOptions) throws -> Int32 {
        try enter(&options, cgroupRequired: true)
        try options.finish()
        let command = options.command
        guard let program = command.first else { throw LabError("exec needs -- PROGRAM ARGS...") }
        let argv = command.map { strdup($0) } + [nil]
        execv(program, argv)
        throw LabError("exec \(program): \(errnoText())")
    }
}

extension InPodHelper {
    /// Runs `executable sim-helper sysctl --netns NETNS KEY=VALUE...` (from the lab process).
    public static func sysctl(executable: String, netns: String, _ settings: [String]) throws {
        try Interrupts.check()
        let result = try Processes.run(executable, ["sim-helper", "sysctl", "--netns", netns] + settings)
        guard result.status == 0 else { throw LabError("sysctl in \(netns) failed: \(result.output.trimmingWhitespace)") }
    }

    /// Starts `command` (an absolute path and its arguments) inside `cgroup`,
    /// and `netns` if given, through `sim-helper exec`: it dies with the lab
    /// process and cleanup finds it in the cgroup. Both outputs go to `log`.
    public static func start(executable: String, cgroup: String, netns: String? = nil, _ command: [String], log: String) throws -> ChildProcess {
        let place = ["--cgroup", cgroup] + (netns.map { ["--netns", $0] } ?? [])
        return try Processes.spawn(executable, ["sim-helper", "exec"] + place + ["--"] + command, stdout: .file(log), stderr: .file(log))
    }

    /// Starts a serving subcommand (`listen`, `serve`) that prints `ready`
    /// once its sockets are bound, and waits at most `timeout` seconds for that
    /// line. `started` gets the pid before the wait, to record it for cleanup.
    /// Its stderr goes to `log`, which a failure quotes.
    @discardableResult
    public static func startServing(executable: String, _ arguments: [String], what: String, log: String, timeout: Double = 5,
                                    started: (pid_t) -> Void = { _ in }) throws -> pid_t {
        let child = try Processes.spawn(executable, ["sim-helper"] + arguments, stdout: .pipe, stderr: .file(log))
        started(child.pid)
        guard let output = child.output else { throw LabError("\(what): no output pipe") }
        defer { close(output) }
        var text = ""
        let deadline = Monotonic.seconds + timeout
        var buffer = [UInt8](repeating: 0, count: 64)
        while !text.contains("ready") {
            try Interrupts.check()
            guard Sockets.wait(output, for: Int16(POLLIN), until: deadline) else {
                throw LabError("\(what) did not start within \(Int(timeout)) s; see \(log)")
            }
            let n = read(output, &buffer, buffer.count)
            if n > 0 { text += String(decoding: buffer[0..<n], as: UTF8.self); continue }
            if n < 0 && errno == EINTR { continue }
            let reason = (try? Files.read(log))?.trimmingWhitespace ?? ""
            throw LabError("\(what) exited: \(reason)")
        }
        return child.pid
    }
}
