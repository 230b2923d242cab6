#if canImport(Glibc)
import Glibc
#endif
import PodgateCgroups
import PodgateLog

// Glibc's module leaves these out (they need _GNU_SOURCE); on x86-64 and arm64
// prctl's variadic arguments are passed like fixed ones.
@_silgen_name("setns") private func c_setns(_ fd: Int32, _ type: Int32) -> Int32
@_silgen_name("prctl") private func c_prctl(_ option: Int32, _ arg: UInt, _ a3: UInt, _ a4: UInt, _ a5: UInt) -> Int32

/// A failure of the benchmark itself: what it did and why.
public struct BenchError: Error, CustomStringConvertible, Sendable {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

func errnoText(_ code: Int32 = errno) -> String { String(cString: strerror(code)) }

/// Small wrappers over the system calls the benchmark needs.
enum Host {
    static func log(_ text: String) { write(2, "podgate bench: " + text + "\n") }
    static func out(_ text: String) { write(1, text + "\n") }

    static func write(_ fd: Int32, _ text: String) { Output.write(fd, text) }

    /// Monotonic nanoseconds.
    static var nanoseconds: UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }
    static var seconds: Double { Double(nanoseconds) / 1e9 }

    static func read(_ path: String) throws -> String {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw BenchError("open \(path): \(errnoText())") }
        defer { close(fd) }
        var data: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = Glibc.read(fd, &buffer, buffer.count)
            if n > 0 { data += buffer[0..<n]; continue }
            if n < 0 && errno == EINTR { continue }
            if n < 0 { throw BenchError("read \(path): \(errnoText())") }
            break
        }
        return String(decoding: data, as: UTF8.self)
    }

    /// Writes `text`; `atomically` writes a temporary file and renames it (one inotify move).
    static func writeFile(_ path: String, _ text: String, atomically: Bool = false) throws {
        let target = atomically ? path + ".tmp-\(getpid())" : path
        let flags = atomically ? O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC : O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC
        let fd = open(target, flags, 0o644)
        guard fd >= 0 else { throw BenchError("open \(target): \(errnoText())") }
        write(fd, text)
        close(fd)
        if atomically, rename(target, path) != 0 { throw BenchError("rename \(target): \(errnoText())") }
    }

    /// For cgroup control files: no O_TRUNC/O_CREAT, report the write error.
    static func writeControl(_ path: String, _ text: String) throws {
        let fd = open(path, O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { throw BenchError("open \(path): \(errnoText())") }
        defer { close(fd) }
        let bytes = Array(text.utf8)
        guard Glibc.write(fd, bytes, bytes.count) == bytes.count else { throw BenchError("write \(path): \(errnoText())") }
    }

    static func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }

    static func makeDirectories(_ path: String) throws {
        var current = ""
        for part in path.split(separator: "/") {
            current += "/" + part
            if mkdir(current, 0o755) != 0 && errno != EEXIST { throw BenchError("mkdir \(current): \(errnoText())") }
        }
    }

    static func list(_ path: String) -> [String] {
        guard let dir = opendir(path) else { return [] }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self) }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    static func isDirectory(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }

    /// A cgroup's ID (its directory's inode).
    static func inode(_ path: String) throws -> UInt64 {
        do { return try Cgroups.id(of: path).rawValue } catch { throw BenchError("\(error)") }
    }

    /// The first executable named `name` on PATH (or the sbin directories), nil if none.
    static func which(_ name: String) -> String? {
        let path = (getenv("PATH").map { String(cString: $0) } ?? "") + ":/usr/sbin:/sbin:/usr/bin:/bin"
        for dir in path.split(separator: ":") where access("\(dir)/\(name)", X_OK) == 0 { return "\(dir)/\(name)" }
        return nil
    }

    static func ownExecutable() -> String {
        var buffer = [CChar](repeating: 0, count: 4096)
        let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard n > 0 else { return CommandLine.arguments[0] }
        return String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The cgroup2 mount point, from mountinfo (/sys/fs/cgroup, or /sys/fs/cgroup/unified on hybrid hosts).
    static func cgroup2Mount() throws -> String {
        do { return try Cgroups.mountPoint() } catch { throw BenchError("no cgroup2 file system is mounted: \(error)") }
    }

    /// `VmRSS` and `VmHWM` of this process, MiB.
    static func memory() -> (rss: Double, hwm: Double) {
        var rss = 0.0, hwm = 0.0
        for line in ((try? read("/proc/self/status")) ?? "").split(separator: "\n") {
            let parts = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard parts.count >= 2, let kib = Double(parts[1]) else { continue }
            if parts[0] == "VmRSS:" { rss = kib / 1024 }
            if parts[0] == "VmHWM:" { hwm = kib / 1024 }
        }
        return (rss, hwm)
    }

    /// Joins a cgroup (before any socket is made), then a named network namespace.
    static func enter(cgroup: String?, netns: String?) throws {
        if let cgroup { try writeControl(cgroup + "/cgroup.procs", "\(getpid())\n") }
        if let netns {
            let fd = open("/run/netns/" + netns, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { throw BenchError("open netns \(netns): \(errnoText())") }
            defer { close(fd) }
            guard c_setns(fd, 0x4000_0000) == 0 else { throw BenchError("setns \(netns): \(errnoText())") }
        }
    }

    /// PR_SET_PDEATHSIG (1): killed when the benchmark dies.
    static func dieWithParent() { _ = c_prctl(1, UInt(SIGKILL), 0, 0, 0) }
}

/// Child processes through posix_spawn: argument arrays, never a shell.
struct Child {
    let pid: pid_t
    let output: Int32?

    static func spawn(_ path: String, _ arguments: [String], captureOutput: Bool = false, stderrToNull: Bool = false,
                      logFile: String? = nil) throws -> Child {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for s in [SIGINT, SIGTERM, SIGPIPE] { sigaddset(&defaults, s) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        var fds: [Int32] = [-1, -1]
        if captureOutput {
            guard pipe(&fds) == 0 else { throw BenchError("pipe: \(errnoText())") }
            fds.forEach { _ = fcntl($0, F_SETFD, FD_CLOEXEC) }
            posix_spawn_file_actions_adddup2(&actions, fds[1], 1)
            if !stderrToNull { posix_spawn_file_actions_adddup2(&actions, fds[1], 2) }
        }
        if stderrToNull { posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0) }
        if let logFile {
            posix_spawn_file_actions_addopen(&actions, 1, logFile, O_WRONLY | O_CREAT | O_APPEND, 0o644)
            posix_spawn_file_actions_adddup2(&actions, 1, 2)
        }
        let argv = ([path] + arguments).map { strdup($0) }
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let status = (argv + [nil]).withUnsafeBufferPointer { args in
            posix_spawn(&pid, path, &actions, &attributes, args.baseAddress!, environ)
        }
        if fds[1] >= 0 { close(fds[1]) }
        guard status == 0 else {
            if fds[0] >= 0 { close(fds[0]) }
            throw BenchError("cannot start \(path): \(errnoText(status))")
        }
        return Child(pid: pid, output: fds[0] >= 0 ? fds[0] : nil)
    }

    /// Runs to completion; returns the exit status and stdout+stderr.
    @discardableResult
    static func run(_ path: String, _ arguments: [String], check: Bool = true) throws -> (status: Int32, output: String) {
        let child = try spawn(path, arguments, captureOutput: true)
        let text = child.readAll()
        let status = child.wait()
        if check && status != 0 {
            throw BenchError("\(path) \(arguments.prefix(8).joined(separator: " ")) exited \(status): \(text.suffix(600))")
        }
        return (status, text)
    }

    func readAll() -> String {
        guard let fd = output else { return "" }
        defer { close(fd) }
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

    /// Reads one line from the output pipe (blocking).
    func readLine() -> String? {
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

    @discardableResult
    func wait() -> Int32 {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 { if errno != EINTR { return -1 } }
        let signal = status & 0x7F
        return signal == 0 ? (status >> 8) & 0xFF : 128 + signal
    }

    func stop() {
        kill(pid, SIGKILL)
        wait()
    }
}
