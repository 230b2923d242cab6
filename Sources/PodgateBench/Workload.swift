#if canImport(Glibc)
import Glibc
#endif

@_silgen_name("sched_setaffinity") private func c_sched_setaffinity(_ pid: Int32, _ size: Int, _ mask: UnsafeRawPointer) -> Int32

/// `podgate bench-helper SUBCOMMAND`: the processes the benchmark places in a
/// pod. Each joins its cgroup FIRST (a socket's cgroup is fixed at creation),
/// then enters the pod's network namespace, then does one job and prints one line.
///
///     serve --cgroup C --netns N --port P     TCP server; first byte 'c': answer one byte
///                                             and close (TCP_CRR); 'r': echo every byte (TCP_RR);
///                                             't': its CPU time in ns, as text
///     (crr and rr print the CPU time of the client plus the server's, asked with 't')
///     crr   --cgroup C --netns N --to IP --port P --seconds S [--warmup S]
///                                             connect, one byte each way, close; prints "COUNT NS ERRORS CPU-NS"
///     rr    --cgroup C --netns N --to IP --port P --seconds S
///                                             one connection, one byte each way per round trip
///     deny  --cgroup C --netns N --to IP --port P --count K --timeout-ms T
///                                             time each refused connect: prints "NS ERRNO" per try
///     flip  --cgroup C --netns N --to IP --port P --changes K --allow FILE --allow-text TEXT
///                                             writes FILE, polls every ms until a connect succeeds,
///                                             removes it, polls until refused; prints "NS" per change
///     exec  --cgroup C -- PROGRAM ARGS...     runs PROGRAM in that cgroup (dies with its parent)
///     --cpu N (any command)                   runs on CPU N only, so client and server
///                                             do not migrate between the cores mid-run
public enum BenchHelper {
    public static func main(_ arguments: [String]) -> Int32 {
        signal(SIGPIPE, SIG_IGN)
        guard let command = arguments.first else {
            Host.write(2, "usage: podgate bench-helper serve|crr|rr|deny|flip|exec ...\n")
            return 2
        }
        let options = Options(Array(arguments.dropFirst()))
        do {
            Host.dieWithParent()
            try Host.enter(cgroup: options.value("--cgroup"), netns: options.value("--netns"))
            if let cpu = options.value("--cpu").flatMap({ Int($0) }) { try pin(toCPU: cpu) }
            switch command {
            case "serve": return try serve(port: options.int("--port", 8080))
            case "crr": return try crr(options)
            case "rr": return try rr(options)
            case "deny": return try deny(options)
            case "flip": return try flip(options)
            case "control": return try ControlBench.child(options)
            case "exec":
                let program = options.remaining
                guard let path = program.first else { throw BenchError("exec needs -- PROGRAM ARGS") }
                let argv = program.map { strdup($0) } + [nil]
                execv(path, argv)
                throw BenchError("exec \(path): \(errnoText())")
            default: throw BenchError("unknown bench-helper command \(command)")
            }
        } catch {
            Host.write(2, "bench-helper \(command): \(error)\n")
            return 2
        }
    }

    struct Options {
        var values: [String: String] = [:]
        var remaining: [String] = []
        init(_ arguments: [String]) {
            var i = 0
            while i < arguments.count {
                if arguments[i] == "--" { remaining = Array(arguments[(i + 1)...]); break }
                if arguments[i].hasPrefix("--"), i + 1 < arguments.count { values[arguments[i]] = arguments[i + 1]; i += 2 } else { i += 1 }
            }
        }
        func value(_ name: String) -> String? { values[name] }
        func int(_ name: String, _ fallback: Int) -> Int { values[name].flatMap { Int($0) } ?? fallback }
        func double(_ name: String, _ fallback: Double) -> Double { values[name].flatMap { Double($0) } ?? fallback }
        func address() throws -> sockaddr_in {
            guard let text = values["--to"] else { throw BenchError("--to is required") }
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = in_port_t(UInt16(int("--port", 8080)).bigEndian)
            guard inet_pton(AF_INET, text, &address.sin_addr) == 1 else { throw BenchError("--to \(text) is not an IPv4 address") }
            return address
        }
    }

    /// sched_setaffinity to one CPU (a 1024-bit mask, as glibc's cpu_set_t).
    static func pin(toCPU cpu: Int) throws {
        guard cpu >= 0, cpu < 1024 else { throw BenchError("--cpu \(cpu) is out of range") }
        var mask = [UInt8](repeating: 0, count: 128)
        mask[cpu / 8] = 1 << UInt8(cpu % 8)
        let result = mask.withUnsafeBytes { c_sched_setaffinity(0, 128, $0.baseAddress!) }
        guard result == 0 else { throw BenchError("sched_setaffinity CPU \(cpu): \(errnoText())") }
    }

    // MARK: server

    static func serve(port: Int) throws -> Int32 {
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard listener >= 0 else { throw BenchError("socket: \(errnoText())") }
        var one: Int32 = 1
        setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else { throw BenchError("bind \(port): \(errnoText())") }
        guard listen(listener, 4096) == 0 else { throw BenchError("listen: \(errnoText())") }
        Host.write(1, "ready\n")
        var byte: UInt8 = 0
        while true {
            let connection = accept(listener, nil, nil)
            if connection < 0 { continue }
            setsockopt(connection, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
            if recv(connection, &byte, 1, 0) == 1 {
                if byte == UInt8(ascii: "t") {
                    let text = Array("\(cpuNanoseconds())\n".utf8)
                    _ = text.withUnsafeBytes { send(connection, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                } else if byte == UInt8(ascii: "r") {
                    while recv(connection, &byte, 1, 0) == 1 {
                        if send(connection, &byte, 1, Int32(MSG_NOSIGNAL)) != 1 { break }
                    }
                } else {
                    _ = send(connection, &byte, 1, Int32(MSG_NOSIGNAL))
                }
            }
            close(connection)
        }
    }

    // MARK: clients

    static func connected(_ target: sockaddr_in) -> (fd: Int32, errno: Int32) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return (-1, errno) }
        var target = target
        let result = withUnsafePointer(to: &target) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        if result != 0 { let code = errno; close(fd); return (-1, code) }
        return (fd, 0)
    }

    /// This process's CPU time (ns): user, system, and the softirq work done on its behalf.
    static func cpuNanoseconds() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &time)
        return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
    }

    /// The server's CPU time (ns), asked on a connection of its own; 0 if it does not answer.
    static func serverCPUNanoseconds(_ target: sockaddr_in) -> UInt64 {
        let (fd, _) = connected(target)
        guard fd >= 0 else { return 0 }
        defer { close(fd) }
        var byte = UInt8(ascii: "t")
        guard send(fd, &byte, 1, Int32(MSG_NOSIGNAL)) == 1 else { return 0 }
        var buffer = [UInt8](repeating: 0, count: 32)
        let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, Int32(MSG_WAITALL)) }
        guard n > 0 else { return 0 }
        return UInt64(String(decoding: buffer.prefix(n).prefix { $0 != 10 }, as: UTF8.self)) ?? 0
    }

    /// Prints "COUNT NS ERRORS CPU-NS"; `--warmup S` first runs S seconds uncounted.
    static func crr(_ options: Options) throws -> Int32 {
        let target = try options.address()
        var byte = UInt8(ascii: "c")
        let warmup = UInt64(options.double("--warmup", 0) * 1e9)
        let warmupStart = Host.nanoseconds
        while Host.nanoseconds - warmupStart < warmup {
            let (fd, _) = connected(target)
            if fd >= 0 {
                _ = send(fd, &byte, 1, Int32(MSG_NOSIGNAL)); _ = recv(fd, &byte, 1, 0)
                close(fd)
            }
        }
        let duration = UInt64(options.double("--seconds", 1) * 1e9)
        var count = 0, errors = 0
        let serverStart = serverCPUNanoseconds(target)
        let cpuStart = cpuNanoseconds()
        let start = Host.nanoseconds
        var now = start
        while now - start < duration {
            let (fd, code) = connected(target)
            if fd < 0 {
                errors += 1
                if errors > 100 { throw BenchError("connect: \(errnoText(code))") }
            } else {
                if send(fd, &byte, 1, Int32(MSG_NOSIGNAL)) == 1, recv(fd, &byte, 1, 0) == 1 { count += 1 } else { errors += 1 }
                close(fd)
            }
            now = Host.nanoseconds
        }
        let cpu = cpuNanoseconds() - cpuStart + serverCPUNanoseconds(target) - serverStart
        Host.write(1, "\(count) \(now - start) \(errors) \(cpu)\n")
        return 0
    }

    /// Prints "COUNT NS 0 CPU-NS". The server serves one connection at a time,
    /// so its CPU time is asked before this connection opens and after it closes.
    static func rr(_ options: Options) throws -> Int32 {
        let target = try options.address()
        let duration = UInt64(options.double("--seconds", 1) * 1e9)
        let serverStart = serverCPUNanoseconds(target)
        let cpuStart = cpuNanoseconds()
        let (fd, code) = connected(target)
        guard fd >= 0 else { throw BenchError("connect: \(errnoText(code))") }
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        var byte = UInt8(ascii: "r")
        guard send(fd, &byte, 1, Int32(MSG_NOSIGNAL)) == 1 else { close(fd); throw BenchError("send: \(errnoText())") }
        var count = 0
        let start = Host.nanoseconds
        var now = start
        while now - start < duration {
            guard send(fd, &byte, 1, Int32(MSG_NOSIGNAL)) == 1, recv(fd, &byte, 1, 0) == 1 else {
                close(fd)
                throw BenchError("round trip \(count): \(errnoText())")
            }
            count += 1
            now = Host.nanoseconds
        }
        close(fd)
        let cpu = cpuNanoseconds() - cpuStart + serverCPUNanoseconds(target) - serverStart
        Host.write(1, "\(count) \(now - start) 0 \(cpu)\n")
        return 0
    }

    /// A non-blocking connect, waited for at most `timeout` ms: (elapsed ns, errno or 0, or ETIMEDOUT).
    static func timedConnect(_ target: sockaddr_in, timeoutMs: Int32) -> (UInt64, Int32) {
        let start = Host.nanoseconds
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        guard fd >= 0 else { return (0, errno) }
        defer { close(fd) }
        var target = target
        let result = withUnsafePointer(to: &target) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        if result == 0 { return (Host.nanoseconds - start, 0) }
        guard errno == EINPROGRESS else { return (Host.nanoseconds - start, errno) }
        var poller = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
        let ready = poll(&poller, 1, timeoutMs)
        if ready == 0 { return (Host.nanoseconds - start, ETIMEDOUT) }
        var code: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &code, &length)
        return (Host.nanoseconds - start, code)
    }

    static func deny(_ options: Options) throws -> Int32 {
        let target = try options.address()
        let timeout = Int32(options.int("--timeout-ms", 1000))
        for _ in 0..<options.int("--count", 20) {
            let (ns, code) = timedConnect(target, timeoutMs: timeout)
            Host.write(1, "\(ns) \(code)\n")
        }
        return 0
    }

    /// Propagation: the time from a manifest change to the first connection that succeeds.
    static func flip(_ options: Options) throws -> Int32 {
        let target = try options.address()
        guard let file = options.value("--allow"), let text = options.value("--allow-text") else {
            throw BenchError("--allow FILE and --allow-text TEXT are required")
        }
        let deadline: UInt64 = 10_000_000_000
        for _ in 0..<options.int("--changes", 50) {
            try Host.writeFile(file, text, atomically: true)
            let start = Host.nanoseconds
            var elapsed: UInt64 = 0
            while true {
                let tick = Host.nanoseconds
                if timedConnect(target, timeoutMs: 1).1 == 0 { elapsed = Host.nanoseconds - start; break }
                guard tick - start < deadline else { throw BenchError("no connection 10 s after the change") }
                let next = tick + 1_000_000
                let now = Host.nanoseconds
                if next > now { usleep(UInt32((next - now) / 1000)) }
            }
            Host.write(1, "\(elapsed)\n")
            guard unlink(file) == 0 else { throw BenchError("unlink \(file): \(errnoText())") }
            let removed = Host.nanoseconds
            while timedConnect(target, timeoutMs: 1).1 == 0 {
                guard Host.nanoseconds - removed < deadline else { throw BenchError("still allowed 10 s after removing the policy") }
                usleep(1000)
            }
        }
        return 0
    }
}
