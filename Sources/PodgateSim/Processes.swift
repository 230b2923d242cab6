#if canImport(Glibc)
import Glibc
#endif

/// A failure of the simulator itself (not of a probe): what it did and why.
public struct SimError: Error, CustomStringConvertible, Sendable {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Where a child's stdout/stderr go.
enum ChildOutput: Sendable {
    case null
    case inherit
    case pipe            // stdout only: read back through `ChildProcess.output`
    case file(String)    // appended
}

struct ChildProcess: Sendable {
    let pid: pid_t
    /// Read end of the stdout pipe, when asked for one (close-on-exec).
    let output: Int32?
}

/// posix_spawn with argument arrays: no shell ever parses our arguments.
enum Processes {
    /// Spawns `path` with `arguments` (argv[0] excluded). Each child gets its own
    /// process group, so a terminal's Ctrl-C reaches only us and we stop our
    /// children in order during cleanup.
    static func spawn(_ path: String, _ arguments: [String], stdout: ChildOutput = .null,
                      stderr: ChildOutput = .inherit) throws -> ChildProcess {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // Children start with default signal handling and an empty mask, whatever we changed.
        var defaults = sigset_t()
        sigemptyset(&defaults)
        sigaddset(&defaults, SIGINT)
        sigaddset(&defaults, SIGTERM)
        sigaddset(&defaults, SIGPIPE)
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
                    guard pipe(&pipeFDs) == 0 else { throw SimError("pipe: \(errnoText())") }
                    pipeFDs.forEach { _ = fcntl($0, F_SETFD, FD_CLOEXEC) }
                }
                posix_spawn_file_actions_adddup2(&actions, pipeFDs[1], fd)
            }
        }
        try route(stdout, to: 1)
        try route(stderr, to: 2)

        let argv = ([path] + arguments).map { strdup($0) }
        defer { argv.forEach { free($0) } }
        let environment = currentEnvironment().map { strdup($0) }
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
            throw SimError("cannot start \(path): \(String(cString: strerror(status)))")
        }
        return ChildProcess(pid: pid, output: pipeFDs[0] >= 0 ? pipeFDs[0] : nil)
    }

    /// Runs to completion; stdout and stderr together.
    static func run(_ path: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
        let child = try spawn(path, arguments, stdout: .pipe, stderr: .pipe)
        let text = readAll(child.output!)
        close(child.output!)
        return (wait(child.pid), text)
    }

    /// Exit status, or 128+signal; retries EINTR.
    @discardableResult
    static func wait(_ pid: pid_t) -> Int32 {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            if errno != EINTR { return -1 }
        }
        return decode(status)
    }

    /// nil while the child runs.
    static func poll(_ pid: pid_t) -> Int32? {
        var status: Int32 = 0
        let result = waitpid(pid, &status, WNOHANG)
        if result == 0 { return nil }
        return result < 0 ? -1 : decode(status)
    }

    static func decode(_ status: Int32) -> Int32 {
        let signal = status & 0x7F
        return signal == 0 ? (status >> 8) & 0xFF : 128 + signal
    }

    static func readAll(_ fd: Int32) -> String {
        var data: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = read(fd, &buffer, buffer.count)
            if n > 0 { data += buffer[0..<n]; continue }
            if n < 0 && errno == EINTR { continue }
            break
        }
        return String(decoding: data, as: UTF8.self)
    }

    /// Stops one of our children: SIGTERM, then SIGKILL after `grace`, then reaps it.
    static func stop(_ pid: pid_t, grace: Double = 1) {
        guard pid > 0, kill(pid, SIGTERM) == 0 || errno != ESRCH else { _ = poll(pid); return }
        let deadline = Clock.now + grace
        while Clock.now < deadline {
            if poll(pid) != nil { return }
            usleep(10_000)
        }
        kill(pid, SIGKILL)
        wait(pid)
    }

    /// Our environment, read from /proc so no C global is touched.
    static func currentEnvironment() -> [String] {
        guard let text = try? Files.read("/proc/self/environ") else { return ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"] }
        return text.split(separator: "\0").map(String.init)
    }
}

func errnoText(_ code: Int32 = errno) -> String { String(cString: strerror(code)) }

/// Monotonic seconds.
enum Clock {
    static var now: Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }
}
