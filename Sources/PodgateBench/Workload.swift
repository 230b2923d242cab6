import PodgateModel
import PodgateLab
#if canImport(Glibc)
import Glibc
#endif

/// The benchmark's subcommands of the one in-pod helper (`podgate sim-helper`,
/// see PodgateLab's InPodHelper). Each joins its cgroup FIRST (a socket's
/// cgroup is fixed at creation), then enters the pod's network namespace,
/// then does one job and prints one line.
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
///     control --cgroup C --pin DIR --attach CGROUP [--pods N --policies N --namespaces N]
///                                             the control-plane figures of one cluster size (ControlBench)
///     --cpu N (any command)                   runs on CPU N only, so client and server
///                                             do not migrate between the cores mid-run
public enum BenchHelper {
    public static let commands: [String: InPodHelper.Command] = [
        "serve": InPodHelper.options(serve), "crr": InPodHelper.options(crr), "rr": InPodHelper.options(rr),
        "deny": InPodHelper.options(deny), "flip": InPodHelper.options(flip), "control": InPodHelper.options(ControlBench.child),
    ]

    /// The server a client talks to: --to (IPv4) and --port.
    struct Target {
        let address: IPAddress
        let port: Int

        init(_ options: inout HelperOptions) throws {
            let text = try options.required("--to")
            guard let address = IPAddress(text), address.isIPv4 else { throw LabError("--to \(text) is not an IPv4 address") }
            self.address = address
            port = try options.int("--port", 8080, in: 1...65535)
        }
    }

    // MARK: server

    static func serve(_ options: inout HelperOptions) throws -> Int32 {
        try InPodHelper.enter(&options, cgroupRequired: false)
        let port = try options.int("--port", 8080, in: 1...65535)
        try options.finish()
        let listener = try Sockets.bindAny(port: port, type: Sockets.stream, ipv4Only: true, backlog: 4096)
        Files.standardOutput("ready\n")
        var byte: UInt8 = 0
        while true {
            let connection = accept(listener, nil, nil)
            if connection < 0 { continue }
            Sockets.setNoDelay(connection)
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

    /// A blocking connect: (fd, 0) or (-1, errno).
    static func connected(_ target: Target) -> (fd: Int32, errno: Int32) {
        let fd = Sockets.open(for: target.address, type: Sockets.stream)
        guard fd >= 0 else { return (-1, errno) }
        let code = Sockets.connect(fd, to: target.address, port: target.port)
        if code != 0 { close(fd); return (-1, code) }
        return (fd, 0)
    }

    /// This process's CPU time (ns): user, system, and the softirq work done on its behalf.
    static func cpuNanoseconds() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &time)
        return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
    }

    /// The server's CPU time (ns), asked on a connection of its own; 0 if it does not answer.
    static func serverCPUNanoseconds(_ target: Target) -> UInt64 {
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
    static func crr(_ options: inout HelperOptions) throws -> Int32 {
        try InPodHelper.enter(&options, cgroupRequired: false)
        let target = try Target(&options)
        let warmup = UInt64(try options.double("--warmup", 0) * 1e9)
        let duration = UInt64(try options.double("--seconds", 1) * 1e9)
        try options.finish()
        var byte = UInt8(ascii: "c")
        let warmupStart = Monotonic.nanoseconds
        while Monotonic.nanoseconds - warmupStart < warmup {
            let (fd, _) = connected(target)
            if fd >= 0 {
                _ = send(fd, &byte, 1, Int32(MSG_NOSIGNAL)); _ = recv(fd, &byte, 1, 0)
                close(fd)
            }
        }
        var count = 0, errors = 0
        let serverStart = serverCPUNanoseconds(target)
        let cpuStart = cpuNanoseconds()
        let start = Monotonic.nanoseconds
        var now = start
        while now - start < duration {
            let (fd, code) = connected(target)
            if fd < 0 {
                errors += 1
                if errors > 100 { throw LabError("connect: \(errnoText(code))") }
            } else {
                if send(fd, &byte, 1, Int32(MSG_NOSIGNAL)) == 1, recv(fd, &byte, 1, 0) == 1 { count += 1 } else { errors += 1 }
                close(fd)
            }
            now = Monotonic.nanoseconds
        }
        let cpu = cpuNanoseconds() - cpuStart + serverCPUNanoseconds(target) - serverStart
        Files.standardOutput("\(count) \(now - start) \(errors) \(cpu)\n")
        return 0
    }

    /// Prints "COUNT NS 0 CPU-NS". The server serves one connection at a time,
    /// so its CPU time is asked before this connection opens and after it closes.
    static func rr(_ options: inout HelperOptions) throws -> Int32 {
        try InPodHelper.enter(&options, cgroupRequired: false)
        let target = try Target(&options)
        let duration = UInt64(try options.double("--seconds", 1) * 1e9)
        try options.finish()
        let serverStart = serverCPUNanoseconds(target)
        let cpuStart = cpuNanoseconds()
        let (fd, code) = connected(target)
        guard fd >= 0 else { throw LabError("connect: \(errnoText(code))") }
        Sockets.setNoDelay(fd)
        var byte = UInt8(ascii: "r")
        guard send(fd, &byte, 1, Int32(MSG_NOSIGNAL)) == 1 else { close(fd); throw LabError("send: \(errnoText())") }
        var count = 0
        let start = Monotonic.nanoseconds
        var now = start
        while now - start < duration {
            guard send(fd, &byte, 1, Int32(MSG_NOSIGNAL)) == 1, recv(fd, &byte, 1, 0) == 1 else {
                close(fd)
                throw LabError("round trip \(count): \(errnoText())")
            }
            count += 1
            now = Monotonic.nanoseconds
        }
        close(fd)
        let cpu = cpuNanoseconds() - cpuStart + serverCPUNanoseconds(target) - serverStart
        Files.standardOutput("\(count) \(now - start) 0 \(cpu)\n")
        return 0
    }

    /// A non-blocking connect, waited for at most `timeoutMs`: (elapsed ns, errno or 0, or ETIMEDOUT).
    static func timedConnect(_ target: Target, timeoutMs: Int) -> (UInt64, Int32) {
        let start = Monotonic.nanoseconds
        let fd = Sockets.open(for: target.address, type: Sockets.stream, nonBlocking: true)
        guard fd >= 0 else { return (0, errno) }
        defer { close(fd) }
        let code = Sockets.connect(fd, to: target.address, port: target.port)
        guard code == EINPROGRESS else { return (Monotonic.nanoseconds - start, code) }
        guard Sockets.wait(fd, for: Int16(POLLOUT), until: Monotonic.seconds + Double(timeoutMs) / 1000) else {
            return (Monotonic.nanoseconds - start, ETIMEDOUT)
        }
        return (Monotonic.nanoseconds - start, Sockets.pendingError(fd))
    }

    static func deny(_ options: inout HelperOptions) throws -> Int32 {
        try InPodHelper.enter(&options, cgroupRequired: false)
        let target = try Target(&options)
        let timeout = try options.int("--timeout-ms", 1000, in: 1...3_600_000)
        let count = try options.int("--count", 20)
        try options.finish()
        for _ in 0..<count {
            let (ns, code) = timedConnect(target, timeoutMs: timeout)
            Files.standardOutput("\(ns) \(code)\n")
        }
        return 0
    }

    /// Propagation: the time from a manifest change to the first connection that succeeds.
    static func flip(_ options: inout HelperOptions) throws -> Int32 {
        try InPodHelper.enter(&options, cgroupRequired: false)
        let target = try Target(&options)
        let file = try options.required("--allow"), text = try options.required("--allow-text")
        let changes = try options.int("--changes", 50)
        try options.finish()
        let deadline: UInt64 = 10_000_000_000
        for _ in 0..<changes {
            try Files.write(file, text, atomically: true)
            let start = Monotonic.nanoseconds
            var elapsed: UInt64 = 0
            while true {
                let tick = Monotonic.nanoseconds
                if timedConnect(target, timeoutMs: 1).1 == 0 { elapsed = Monotonic.nanoseconds - start; break }
                guard tick - start < deadline else { throw LabError("no connection 10 s after the change") }
                let next = tick + 1_000_000
                let now = Monotonic.nanoseconds
                if next > now { usleep(UInt32((next - now) / 1000)) }
            }
            Files.standardOutput("\(elapsed)\n")
            guard unlink(file) == 0 else { throw LabError("unlink \(file): \(errnoText())") }
            let removed = Monotonic.nanoseconds
            while timedConnect(target, timeoutMs: 1).1 == 0 {
                guard Monotonic.nanoseconds - removed < deadline else { throw LabError("still allowed 10 s after removing the policy") }
                usleep(1000)
            }
        }
        return 0
    }
}
