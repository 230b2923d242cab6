#if canImport(Glibc)
import Glibc
#endif

/// Where a child's stdout/stderr go.
public enum ChildOutput: Sendable, Equatable {
    case null
    case inherit
    case pipe            // read back through `ChildProcess.output`; stdout and stderr share one pipe
    case file(String)    // appended
}

public struct ChildProcess: Sendable {
    public let pid: pid_t
    /// Read end of the output pipe, when asked for one (close-on-exec).
    public let output: Int32?

    /// Everything left on the pipe, then closes it.
    public func readAll() -> String {
        guard let fd = output else { return "" }
        defer { close(fd) }
        return Processes.readAll(fd)
    }

    /// One line from the pipe (blocking); nil at its end.
    public func readLine() -> String? {
        guard let fd = output else { return nil }
        var line: [UInt8] = []
        var byte: UInt8 = 0
        while true {
            let n = read(fd, &byte, 1)
            if n == 1 { if byte == 10 { break }; line.append(byte); continue }
            if n < 0 && errno == EINTR { continue }
            if line.isEmpty { return nil }
            break
        }
        return String(decoding: line, as: UTF8.self)
    }
}

/// posix_spawn with argument arrays: no shell ever parses our arguments.
public enum Processes {
    /// Spawns `path` with `arguments` (argv[0] excluded). Each child gets its own
    /// process group, so a terminal's Ctrl-C reaches only us and we stop our
    /// children in order during cleanup. `environment`: added to (or
    /// replacing in) ours.
    public static func spawn(_ path: String, _ arguments: [String], stdout: ChildOutput = .null,
                             stderr: ChildOutput = .inherit, environment extra: [String: String] = [:]) throws -> ChildProcess {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // Children start with default signal handling and an empty mask, whatever we changed.
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGINT, SIGTERM, SIGPIPE] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))

        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        var pipeFDs: [Int32] = [-1, -1]
        func route(_ output: ChildOutput, to fd: Int32) throws {
            switch output {
            case .null: posix_spawn_file_actions_addopen(&actions, fd, "/dev/null", O_WRONLY, 0)
            case .inherit: break
            case .file(let path): posix_spawn_file_actions_addopen(&actions, fd, path, O_WRONLY | O_CREAT | O_APPEND, 0o644)
            case .pipe:
                if pipeFDs[0] < 0 {
                    // pipe2 is hidden by Glibc's module: set close-on-exec right after.
                    guard pipe(&pipeFDs) == 0 else { throw LabError("pipe: \(errnoText())") }
                    pipeFDs.forEach { _ = fcntl($0, F_SETFD, FD_CLOEXEC) }
                }
                posix_spawn_file_actions_adddup2(&actions, pipeFDs[1], fd)
            }
        }
        try route(stdout, to: 1)
        try route(stderr, to: 2)

        let argv = ([path] + arguments).map { strdup($0) }
        defer { argv.forEach { free($0) } }
        let inherited = currentEnvironment().filter { entry in !extra.keys.contains { entry.hasPrefix($0 + "=") } }
        let environment = (inherited + extra.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }).map { strdup($0) }
        defer { environment.forEach { free($0) } }
        var pid: pid_t = 0
        let status = (argv + [nil]).withUnsafeBufferPointer { args in
            (environment + [nil]).withUnsafeBufferPointer { env in
                posix_spawn(&pid, path, &actions, &attributes, args.baseAddress!, env.baseAddress!)
            }
        }
        if pipeFDs[1] >= 0 { close(pipeFDs[1]) }
        guard status == 0 else {
            if pipeFDs[0] >= 0 { close(pipeFDs[0]) }
            throw LabError("cannot start \(path): \(errnoText(status))")
        }
        return ChildProcess(pid: pid, output: pipeFDs[0] >= 0 ? pipeFDs[0] : nil)
    }

    /// Runs to completion; stdout and stderr together.
    public static func run(_ path: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
        let child = try spawn(path, arguments, stdout: .pipe, stderr: .pipe)
        let text = child.readAll()
        return (wait(child.pid), text)
    }

    /// Runs to completion and throws, with the command and the end of its output, unless it exits 0.
    @discardableResult
    public static func check(_ path: String, _ arguments: [String]) throws -> String {
        let result = try run(path, arguments)
        guard result.status == 0 else {
            throw LabError("\(path) \(arguments.prefix(8).joined(separator: " ")) exited \(result.status): \(result.output.suffix(600))")
        }
        return result.output
    }

    /// Exit status, or 128+signal; retries EINTR.
    @discardableResult
    public static func wait(_ pid: pid_t) -> Int32 {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            if errno != EINTR { return -1 }
        }
        return decode(status)
    }

    /// nil while the child runs.
    public static func poll(_ pid: pid_t) -> Int32? {
        var status: Int32 = 0
        let result = waitpid(pid, &status, WNOHANG)
        if result == 0 { return nil }
        return result < 0 ? -1 : decode(status)
    }

    static func decode(_ status: Int32) -> Int32 {
        let signal = status & 0x7F
        return signal == 0 ? (status >> 8) & 0xFF : 128 + signal
    }

    public static func readAll(_ fd: Int32) -> String {
        var data: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = read(fd, &buffer, buffer.count)
            if n > 0 { data += buffer[0..<n]; continue }
            if n < 0 && errno == EINTR { continue }
            break
        }
        return String(decoding: data, as: UTF8.self)
    }

    /// Stops one of our children: SIGTERM, then SIGKILL after `grace` (at once when 0), then reaps it.
    public static func stop(_ pid: pid_t, grace: Double = 1) {
        guard pid > 0 else { return }
        if grace > 0 {
            guard kill(pid, SIGTERM) == 0 || errno != ESRCH else { _ = poll(pid); return }
            let deadline = Monotonic.seconds + grace
            while Monotonic.seconds < deadline {
                if poll(pid) != nil { return }
                usleep(10_000)
            }
        }
        kill(pid, SIGKILL)
        wait(pid)
    }

    /// Our environment, read from /proc so no C global is touched.
    public static func currentEnvironment() -> [String] {
        guard let text = try? Files.read("/proc/self/environ") else { return ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"] }
        return text.split(separator: "\0").map(String.init)
    }
}
