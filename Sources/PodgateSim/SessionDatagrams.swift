#if canImport(Glibc)
import Glibc
#endif

/// Session modes of datagram protocols (UDP 17, UDP-Lite 136) by number:
///
///     count-dgrams PROTO ADDR PORT STOPFILE   `ready`, then `received N SRC...` (distinct sources)
///     send-dgrams PROTO DST PORT COUNT        ordinary sends: `oserror N`..., `sent N`
///     dgram-ask PROTO DST PORT WAIT           one datagram, then `answered` / `EPERM` / `timeout`
///     dgram-echo PROTO ADDR PORT SECONDS [GOFILE]   `ready`, `asked PEER`, answers (after GOFILE exists): `answered`
///     peer-flood SRC BASE NADDRS NPORTS       one UDP datagram to each (address, port): `sent N in S s`
///     udp-error DST PORT                      connected UDP to a closed port: `refused` (the ICMP error came back)
enum SessionDatagrams {
    static let modes: [String: HelperSession.Mode] = [
        "count-dgrams": countDatagrams, "send-dgrams": sendDatagrams, "dgram-ask": ask, "dgram-echo": echo,
        "peer-flood": peerFlood, "udp-error": udpError,
    ]

    static func countDatagrams(_ a: inout SessionArguments) throws {
        let (number, address, port, stop) = (Int32(try a.int("protocol")), try a.string("address"), try a.int("port"), try a.string("stop file"))
        let socket = try SessionSocket(for: address, type: SessionSocket.datagram, protocol: number)
        if socket.family == AF_INET6 { try socket.option(Int32(IPPROTO_IPV6), IPV6_V6ONLY, 1) }
        try socket.bind(address, port: port)
        say("ready")
        var sources: [String] = []
        SessionForged.untilStopped(stop, socket) { socket in
            let (result, _, peer) = socket.receive(2000)
            if result == .done, let peer { sources.append(peer.host) }
        }
        say("received \(sources.count) " + Set(sources).sorted().joined(separator: " "))
    }

    static func sendDatagrams(_ a: inout SessionArguments) throws {
        let (number, destination, port, count) = (Int32(try a.int("protocol")), try a.string("destination"), try a.int("port"), try a.int("count"))
        let socket = try SessionSocket(for: destination, type: SessionSocket.datagram, protocol: number)
        try SessionForged.sendCount(count) { _ in try socket.send(Array("hello".utf8), to: destination, port: port) }
    }

    static func ask(_ a: inout SessionArguments) throws {
        let (number, destination, port, wait) = (Int32(try a.int("protocol")), try a.string("destination"), try a.int("port"), try a.double("wait"))
        let socket = try SessionSocket(for: destination, type: SessionSocket.datagram, protocol: number)
        socket.setTimeout(wait)
        var result = try socket.send(Array("hi".utf8), to: destination, port: port)
        if result == .done { result = socket.receive(100).result }
        say(result.word("answered"))
    }

    static func echo(_ a: inout SessionArguments) throws {
        let (number, address, port, seconds) = (Int32(try a.int("protocol")), try a.string("address"), try a.int("port"), try a.double("seconds"))
        let go = a.hasMore ? try a.string("go file") : nil
        let socket = try SessionSocket(for: address, type: SessionSocket.datagram, protocol: number)
        try socket.bind(address, port: port)
        socket.setTimeout(seconds)
        say("ready")
        let (result, bytes, peer) = socket.receive(100)
        guard result == .done, let peer else { say(result.word()); return }
        say("asked " + peer.host)
        let end = SessionClock.wall + seconds
        while let go, !SessionClock.exists(go), SessionClock.wall < end { SessionClock.sleep(0.05) }
        let answer = try socket.send(bytes, to: peer.host, port: peer.port)
        say(answer == .done ? "answered" : answer.word())
    }

    static func peerFlood(_ a: inout SessionArguments) throws {
        let (source, base, addresses, ports) = (try a.string("source"), try a.string("base address"), try a.int("addresses"), try a.int("ports"))
        let octets = base.split(separator: ".")
        guard octets.count == 4, let last = Int(octets[3]) else { throw SimError("peer-flood: \(base) is not an IPv4 address") }
        let prefix = octets.dropLast().joined(separator: ".")
        let socket = try SessionSocket(family: AF_INET, type: SessionSocket.datagram)
        try socket.bind(source, port: 0)
        socket.setNonBlocking()
        var sent = 0
        let start = SessionClock.wall
        for offset in 0..<addresses {
            let destination = "\(prefix).\(last + offset)"
            for port in 0..<ports {
                while true {
                    let result = try socket.send(Array("x".utf8), to: destination, port: 1024 + port)
                    if result == .done { sent += 1; break }
                    // ECONNREFUSED: an ICMP error for an earlier datagram; ENOBUFS, EAGAIN: send it again.
                    if case .failed(let code) = result, code != ECONNREFUSED, code != ENOBUFS, code != EAGAIN {
                        throw SimError("peer-flood to \(destination): errno \(code)")
                    }
                    if result != .failed(ECONNREFUSED) { SessionClock.sleep(0.0005) }
                }
            }
        }
        say("sent \(sent) in \(String(format1: SessionClock.wall - start)) s")
    }

    static func udpError(_ a: inout SessionArguments) throws {
        let (destination, port) = (try a.string("destination"), try a.int("port"))
        let socket = try SessionSocket(for: destination, type: SessionSocket.datagram)
        socket.setTimeout(2)
        var result = try socket.connect(destination, port: port)
        if result == .done { result = try socket.send(Array("anyone?".utf8)) }
        if result == .done { result = socket.receive(100).result }
        switch result {
        case .done: say("answered")
        case .failed(ECONNREFUSED): say("refused")
        case .timedOut: say("timeout")
        case .failed(let code): throw SimError("udp-error \(destination): errno \(code)")
        }
    }
}
