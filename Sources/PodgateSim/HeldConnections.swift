#if canImport(Glibc)
import Glibc
#endif
import PodgateModel

/// `sim-helper hold`: one connection held open, as a database pool or a gRPC
/// channel would hold it. Opens it like a probe (connect, one echo), prints
/// `open`, then exchanges a byte every 10 ms until it stops working: prints
/// `cut: HOW` and exits 1. `--seconds` bounds its life.
struct HoldClient {
    let address: IPAddress
    let port: Int
    let transport: TransportProtocol
    let family: AddressFamily
    let timeout: Double
    let seconds: Double

    func run() -> Int32 {
        let domain = family == .ipv4 ? AF_INET : AF_INET6
        let fd = socket(domain, transport == .tcp ? Sockets.stream : Sockets.datagram, 0)
        guard fd >= 0 else { return report("not open: socket failed: \(errnoText())", 2) }
        defer { close(fd) }
        Sockets.setNonBlocking(fd)
        let connected = Sockets.connect(fd, to: address, port: port, family: family)
        if transport == .tcp {
            guard connected == 0 || connected == EINPROGRESS,
                  Sockets.wait(fd, for: Int16(POLLOUT), until: Monotonic.seconds + timeout), Sockets.pendingError(fd) == 0 else {
                return report("not open: connect failed", 2)
            }
        } else if connected != 0 {
            return report("not open: connect failed: \(errnoText(connected))", 2)
        }
        if let problem = exchange(fd, until: Monotonic.seconds + timeout) { return report("not open: \(problem)", 2) }
        Files.standardOutput("open\n")
        let end = Monotonic.seconds + seconds
        while Monotonic.seconds < end {
            usleep(10_000)
            if let problem = exchange(fd, until: Monotonic.seconds + 1) { return report("cut: \(problem)", 1) }
        }
        return report("kept", 0)
    }

    /// One byte (one datagram) out and back; nil when it came back.
    private func exchange(_ fd: Int32, until deadline: Double) -> String? {
        let payload: [UInt8] = Array("podgate-held".utf8)
        if send(fd, payload, transport == .tcp ? 1 : payload.count, Int32(MSG_NOSIGNAL)) < 0 { return "send: \(errnoText())" }
        var buffer = [UInt8](repeating: 0, count: 64)
        while true {
            guard Sockets.wait(fd, for: Int16(POLLIN), until: deadline) else { return "no echo" }
            let n = recv(fd, &buffer, buffer.count, 0)
            if n > 0 { return nil }
            if n == 0 { return "closed by the peer" }
            if errno == EAGAIN || errno == EINTR { continue }
            return "receive: \(errnoText())"
        }
    }

    private func report(_ line: String, _ code: Int32) -> Int32 {
        Files.standardOutput(line + "\n")
        return code
    }
}

/// The runner's side: opens a round's held connections before its change,
/// and after it says which were cut.
struct HeldRunner {
    let topology: Topology
    let helper: HelperLauncher
    let timeout: Double

    struct Holding {
        let held: HeldConnection
        let pid: pid_t
        let output: Int32
        let opened: String?   // nil when open; else why not
    }

    /// Starts each connection and waits until it is open (or failed to open).
    func open(_ connections: [HeldConnection], runner: ProbeRunner, state: CleanupRegistry) throws -> [Holding] {
        try connections.map { held in
            let launch = try runner.launch(for: held.probe)
            var arguments = launch.argumentsForHelper
            arguments[1] = "hold"
            arguments += ["--seconds", "600"]
            let child = try Processes.spawn(helper.executable, arguments, stdout: .pipe, stderr: .null)
            state.recordProcess(child.pid)
            let line = Self.readLine(child.output!, until: Monotonic.seconds + timeout + 2)
            return Holding(held: held, pid: child.pid, output: child.output!, opened: line == "open" ? nil : (line ?? "no answer"))
        }
    }

    /// After the change is in force: waits up to `timeout` for the expected
    /// cuts (a kept connection must last the whole window), then stops them.
    /// Returns one failure line per connection that did not do as expected.
    func check(_ holdings: [Holding], title: String) -> (passed: Int, failures: [String], lines: [String]) {
        var outcome: [Int: String] = [:]
        let deadline = Monotonic.seconds + timeout
        while Monotonic.seconds < deadline {
            for (index, holding) in holdings.enumerated() where holding.opened == nil && outcome[index] == nil {
                var fds = [pollfd(fd: holding.output, events: Int16(POLLIN), revents: 0)]
                if Glibc.poll(&fds, 1, 0) > 0, let line = Self.readLine(holding.output, until: Monotonic.seconds + 0.1) { outcome[index] = line }
            }
            if holdings.indices.allSatisfy({ holdings[$0].opened != nil || outcome[$0] != nil || !holdings[$0].held.cut }),
               !holdings.contains(where: { !$0.held.cut && $0.opened == nil }) { break }
            usleep(10_000)
        }
        var passed = 0
        var failures: [String] = []
        var lines: [String] = []
        for (index, holding) in holdings.enumerated() {
            Processes.stop(holding.pid, grace: 0)
            close(holding.output)
            let probe = holding.held.probe
            let name = "\(probe.from) -> \(probe.to) \(probe.column)"
            let expected = holding.held.cut ? "cut" : "kept"
            let saw: String
            let good: Bool
            if let problem = holding.opened {
                saw = "could not be opened before the change (\(problem))"
                good = false
            } else if let line = outcome[index], line.hasPrefix("cut") {
                saw = line
                good = holding.held.cut
            } else {
                saw = "kept"
                good = !holding.held.cut
            }
            lines.append("  \(good ? "ok  " : "FAIL") \(name): \(saw) (expected \(expected))")
            if good { passed += 1 } else { failures.append("\(probe.field): held \(name) expected \(expected), saw \(saw)") }
        }
        return (passed, failures, lines.isEmpty ? [] : ["held across \(title):"] + lines)
    }

    static func readLine(_ fd: Int32, until deadline: Double) -> String? {
        var text: [UInt8] = []
        var byte: UInt8 = 0
        while Monotonic.seconds < deadline {
            guard Sockets.wait(fd, for: Int16(POLLIN), until: deadline) else { return nil }
            let n = read(fd, &byte, 1)
            if n == 1 {
                if byte == UInt8(ascii: "\n") { return String(decoding: text, as: UTF8.self) }
                text.append(byte)
            } else if n == 0 || (n < 0 && errno != EINTR) {
                return text.isEmpty ? nil : String(decoding: text, as: UTF8.self)
            }
        }
        return nil
    }
}
