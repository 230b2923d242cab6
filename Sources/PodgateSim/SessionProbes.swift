#if canImport(Glibc)
import Glibc
#endif

/// Session modes that make connections as a pod's application would and
/// say what happened:
///
///     connect ADDR PORT tcp|udp [TIMEOUT=2]   one connect
///     connect-from SRC DST PORT TIMEOUT       one TCP connect from a bound source
///     connect-until ADDR PORT                 `ready`, then every few ms until accepted: `ok <CLOCK_MONOTONIC s>` (20 s)
///     connect-once SRC DST PORT               connect from SRC, one byte there and back
///     udp-ask ADDR PORT WAIT                  one datagram, wait for the answer
///     udp-unconnected DST PORT                sendto on unconnected UDP: AF_INET, then AF_INET6 to ::ffff:DST
///     tfo DST PORT                            sendto(MSG_FASTOPEN) without connect
///     early-socket DST PORT                   connect with the socket made before the cgroup move
///     self OWN PORT                           to a dual-stack listener of the same pod: 127.0.0.1, OWN, ::1, ::ffff:OWN
///     loop SRC|- DST ALLOWED DENIED STOPFILE MAX   alternating connects until STOPFILE exists; counts, leaks
///     sleep                                   `ready`, then an hour of nothing (a pod's sandbox)
enum SessionProbes {
    static let modes: [String: HelperSession.Mode] = [
        "connect": connect, "connect-from": connectFrom, "connect-until": connectUntil, "connect-once": connectOnce,
        "udp-ask": udpAsk, "udp-unconnected": udpUnconnected, "tfo": fastOpen, "early-socket": earlySocket,
        "self": ownPod, "loop": loop, "sleep": { _ in say("ready"); SessionClock.sleep(3600) },
    ]

    static func connect(_ a: inout SessionArguments) throws {
        let (address, port, transport) = (try a.string("address"), try a.int("port"), try a.string("tcp|udp"))
        let timeout = a.hasMore ? try a.double("timeout") : 2.0
        let socket = try SessionSocket(for: address, type: transport == "tcp" ? SessionSocket.stream : SessionSocket.datagram)
        socket.setTimeout(timeout)
        say(try socket.connect(address, port: port).word())
    }

    static func connectFrom(_ a: inout SessionArguments) throws {
        let (source, destination, port, timeout) = (try a.string("source"), try a.string("destination"), try a.int("port"), try a.double("timeout"))
        let socket = try SessionSocket(family: AF_INET, type: SessionSocket.stream)
        socket.setTimeout(timeout)
        var result = try socket.bound(source, port: 0)
        if result == .done { result = try socket.connect(destination, port: port) }
        say(result.word())
    }

    static func connectUntil(_ a: inout SessionArguments) throws {
        let (address, port) = (try a.string("address"), try a.int("port"))
        say("ready")
        let deadline = Clock.now + 20
        while Clock.now < deadline {
            let socket = try SessionSocket(for: address, type: SessionSocket.stream)
            socket.setTimeout(0.02)
            if try socket.connect(address, port: port) == .done {
                say("ok " + String(format6: Clock.now))
                return
            }
            SessionClock.sleep(0.002)
        }
        say("gave up")
    }

    static func connectOnce(_ a: inout SessionArguments) throws {
        let (source, destination, port) = (try a.string("source"), try a.string("destination"), try a.int("port"))
        let socket = try SessionSocket(family: AF_INET, type: SessionSocket.stream)
        socket.setTimeout(2)
        var result = try socket.bound(source, port: 0)
        if result == .done { result = try socket.connect(destination, port: port) }
        if result == .done { result = try socket.send(Array("y".utf8)) }
        if result == .done { result = socket.receive(16).result }
        say(result.word(refused: nil))
    }

    static func udpAsk(_ a: inout SessionArguments) throws {
        let (address, port, wait) = (try a.string("address"), try a.int("port"), try a.double("wait"))
        let socket = try SessionSocket(for: address, type: SessionSocket.datagram)
        socket.setTimeout(wait)
        var result = try socket.send(Array("hi".utf8), to: address, port: port)
        if result == .done { result = socket.receive(100).result }
        say(result.word("answered"))
    }

    static func udpUnconnected(_ a: inout SessionArguments) throws {
        let (destination, port) = (try a.string("destination"), try a.int("port"))
        for target in [destination, "::ffff:" + destination] {
            let socket = try SessionSocket(for: target, type: SessionSocket.datagram)
            say(try socket.send(Array("x".utf8), to: target, port: port).word("sent", refused: nil))
        }
    }

    static func fastOpen(_ a: inout SessionArguments) throws {
        let (destination, port) = (try a.string("destination"), try a.int("port"))
        let socket = try SessionSocket(for: destination, type: SessionSocket.stream)
        socket.setTimeout(2)
        var result = try socket.send(Array("hello".utf8), to: destination, port: port, flags: Int32(MSG_FASTOPEN))
        if result == .done { result = socket.receive(10).result }
        say(result.word())
    }

    static func earlySocket(_ a: inout SessionArguments) throws {
        let (destination, port) = (try a.string("destination"), try a.int("port"))
        guard let socket = a.early else { throw SimError("early-socket: no early socket") }
        socket.setTimeout(2)
        say(try socket.connect(destination, port: port).word())
    }

    static func ownPod(_ a: inout SessionArguments) throws {
        let (own, port) = (try a.string("own address"), try a.int("port"))
        let listener = try SessionSocket(family: AF_INET6, type: SessionSocket.stream)
        try listener.option(Int32(IPPROTO_IPV6), IPV6_V6ONLY, 0)
        try listener.bind("::", port: port)
        try listener.listen(8)
        for destination in ["127.0.0.1", own, "::1", "::ffff:" + own] {
            let socket = try SessionSocket(for: destination, type: SessionSocket.stream)
            socket.setTimeout(1.5)
            say(destination + " " + (try socket.connect(destination, port: port).word(refused: nil)))
        }
    }

    static func loop(_ a: inout SessionArguments) throws {
        let (source, destination) = (try a.string("source"), try a.string("destination"))
        let (allowedPort, deniedPort, stop, limit) = (try a.int("allowed port"), try a.int("denied port"), try a.string("stop file"), try a.double("seconds"))
        var counts = ["allowed_ok": 0, "allowed_fail": 0, "denied_blocked": 0, "denied_leaked": 0]
        var failures: [String] = []
        func attempt(_ port: Int, _ timeout: Double) throws -> String {
            let socket = try SessionSocket(for: destination, type: SessionSocket.stream)
            socket.setTimeout(timeout)
            var result: SessionResult = try source == "-" ? .done : socket.bound(source, port: 0)
            if result == .done { result = try socket.connect(destination, port: port) }
            return result.word()
        }
        say("ready")
        let end = Clock.now + limit
        while !SessionClock.exists(stop) && Clock.now < end {
            if allowedPort > 0 {
                let result = try attempt(allowedPort, 3.0)
                if result == "connected" { counts["allowed_ok", default: 0] += 1 } else {
                    counts["allowed_fail", default: 0] += 1
                    failures.append(String(format3: SessionClock.wall) + " allowed " + result)
                }
            }
            if deniedPort > 0 {
                if try attempt(deniedPort, 0.5) == "connected" {
                    counts["denied_leaked", default: 0] += 1
                    failures.append(String(format3: SessionClock.wall) + " denied-leaked")
                } else {
                    counts["denied_blocked", default: 0] += 1
                }
            }
            SessionClock.sleep(0.002)
        }
        say(counts.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " "))
        for failure in failures.prefix(20) { say(failure) }
    }
}

extension String {
    /// Fixed-point text with 6 (or 3) decimals, as "%.6f" prints it.
    init(format6 value: Double) { self = fixedPoint(value, decimals: 6) }
    init(format3 value: Double) { self = fixedPoint(value, decimals: 3) }
    init(format1 value: Double) { self = fixedPoint(value, decimals: 1) }
}

private func fixedPoint(_ value: Double, decimals: Int) -> String {
    var buffer = [CChar](repeating: 0, count: 64)
    _ = withVaList([decimals, value]) { vsnprintf(&buffer, buffer.count, "%.*f", $0) }
    return String(cString: buffer)
}
