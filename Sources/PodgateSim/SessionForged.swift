#if canImport(Glibc)
import Glibc
#endif

/// Session modes that go around sockets' ordinary paths (raw sockets,
/// forged sources, foreign binds) and that watch the wire:
///
///     raw-syn SRC DST PORT COUNT        COUNT raw TCP SYNs from SRC (v4 or v6): `sent` / `EPERM` / `oserror N` each
///     raw-flood SRC DST PORT COUNT N    COUNT raw SYNs over N source ports, resent on ENOBUFS: `sent COUNT`
///     forge-udp SRC DST PORT COUNT [PROTO]   raw datagrams (UDP or UDP-Lite) from SRC: `oserror N`..., `sent N`
///     transparent-udp SRC DST PORT      IP_TRANSPARENT bind to a foreign SRC, then sendto
///     send-raw PROTO DST COUNT          ordinary raw sockets of an IP protocol: `sent N`
///     ping DST COUNT WAIT               ICMP(v6) echo over a ping socket: `replies N` (or `EPERM`)
///     sniff PORT SECONDS                `ready`, then `syn SRC` / `udp SRC` for packets to PORT, `done`
///     sniff-synack PORT SECONDS         `ready`, then `synack SRC` for SYN+ACKs from PORT, `done`
///     sniff-any STOPFILE                `ready`, then `PROTO SRC` for every IP packet arriving, `done`
///     count-raw PROTO ADDR STOPFILE     `ready`, then `received N types T,..` (ICMP types, else -)
enum SessionForged {
    static let modes: [String: HelperSession.Mode] = [
        "raw-syn": rawSyn, "raw-flood": rawFlood, "forge-udp": forgeUDP, "transparent-udp": transparentUDP,
        "send-raw": sendRaw, "ping": ping, "sniff": sniff, "sniff-synack": sniffSynAck, "sniff-any": sniffAny, "count-raw": countRaw,
    ]

    static let ipprotoRaw = Int32(IPPROTO_RAW)

    /// Sends `count` packets; each failure is an `oserror N` line, then `sent N`.
    static func sendCount(_ count: Int, _ send: (Int) throws -> SessionResult) rethrows {
        var sent = 0
        for index in 0..<count {
            switch try send(index) {
            case .done: sent += 1
            case .failed(let code): say("oserror \(code)")
            case .timedOut: say("oserror \(EAGAIN)")
            }
        }
        say("sent \(sent)")
    }

    static func rawSyn(_ a: inout SessionArguments) throws {
        let (source, destination, port, count) = (try a.string("source"), try a.string("destination"), try a.int("port"), try a.int("count"))
        let socket = try SessionSocket(for: destination, type: SessionSocket.raw, protocol: ipprotoRaw)
        for index in 0..<count {
            let packet = try SessionPackets.syn(from: source, to: destination, sourcePort: 40000 + index, port: port)
            say(try socket.send(packet, to: destination, port: 0).word("sent", refused: nil))
        }
    }

    static func rawFlood(_ a: inout SessionArguments) throws {
        let (source, destination, port) = (try a.string("source"), try a.string("destination"), try a.int("port"))
        let (count, ports) = (try a.int("count"), try a.int("source ports"))
        let socket = try SessionSocket(family: AF_INET, type: SessionSocket.raw, protocol: ipprotoRaw)
        let packets = try (0..<ports).map { try SessionPackets.syn(from: source, to: destination, sourcePort: 30000 + $0, port: port) }
        var sent = 0
        for index in 0..<count {
            // ENOBUFS: the packet was not sent, send it again.
            while try socket.send(packets[index % ports], to: destination, port: 0) != .done { SessionClock.sleep(0.001) }
            sent += 1
        }
        say("sent \(sent)")
    }

    static func forgeUDP(_ a: inout SessionArguments) throws {
        let (source, destination, port, count) = (try a.string("source"), try a.string("destination"), try a.int("port"), try a.int("count"))
        let number = a.hasMore ? UInt8(try a.int("protocol")) : 17
        let socket = try SessionSocket(for: destination, type: SessionSocket.raw, protocol: ipprotoRaw)
        try sendCount(count) { index in
            try socket.send(try SessionPackets.udp(from: source, to: destination, sourcePort: 41000 + index, port: port,
                                                   payload: Array("forged".utf8), protocol: number), to: destination, port: 0)
        }
    }

    /// IP_FREEBIND alone cannot send from a foreign address (the route lookup
    /// refuses a non-local source: ENETUNREACH); IP_TRANSPARENT (CAP_NET_ADMIN) can.
    static func transparentUDP(_ a: inout SessionArguments) throws {
        let (source, destination, port) = (try a.string("source"), try a.string("destination"), try a.int("port"))
        let socket = try SessionSocket(family: AF_INET, type: SessionSocket.datagram)
        try socket.option(Int32(IPPROTO_IP), 19, 1)  // IP_TRANSPARENT
        try socket.bind(source, port: 0)
        say(try socket.send(Array("forged".utf8), to: destination, port: port).word("sent", refused: nil))
    }

    static func sendRaw(_ a: inout SessionArguments) throws {
        let (number, destination, count) = (Int32(try a.int("protocol")), try a.string("destination"), try a.int("count"))
        let socket = try SessionSocket(for: destination, type: SessionSocket.raw, protocol: number)
        try sendCount(count) { _ in try socket.send(Array("raw payload".utf8), to: destination, port: 0) }
    }

    static func ping(_ a: inout SessionArguments) throws {
        let (destination, count, wait) = (try a.string("destination"), try a.int("count"), try a.double("wait"))
        let v6 = destination.contains(":")
        let socket = try SessionSocket(for: destination, type: SessionSocket.datagram, protocol: Int32(v6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP))
        socket.setTimeout(wait)
        var replies = 0
        for sequence in 0..<count {
            let header: [UInt8] = [v6 ? 128 : 8, 0] + SessionPackets.be16(0) + SessionPackets.be16(0) + SessionPackets.be16(sequence)
            var result = try socket.send(header + Array("podgate".utf8), to: destination, port: 0)
            if result == .done { result = socket.receive(200).result }
            switch result {
            case .done: replies += 1
            case .timedOut: continue
            case .failed(EPERM), .failed(EACCES): say("EPERM")
            case .failed(let code): throw SimError("ping \(destination): errno \(code)")
            }
            if case .failed = result { break }
        }
        say("replies \(replies)")
    }

    /// Reads raw packets for `seconds`, handing each to `show`.
    static func watch(_ sockets: [SessionSocket], seconds: Double, _ show: (SessionSocket, [UInt8]) -> Void) {
        let end = Clock.now + seconds
        while Clock.now < end {
            let ready = SessionClock.poll(sockets.map(\.fd), Int16(POLLIN), seconds: max(0, end - Clock.now))
            for (socket, isReady) in zip(sockets, ready) where isReady {
                let (result, bytes, _) = socket.receive(2000)
                if result == .done, !bytes.isEmpty { show(socket, bytes) }
            }
        }
    }

    static func sniff(_ a: inout SessionArguments) throws {
        let (port, seconds) = (try a.int("port"), try a.double("seconds"))
        let tcp = try SessionSocket(family: AF_INET, type: SessionSocket.raw, protocol: Int32(IPPROTO_TCP))
        let udp = try SessionSocket(family: AF_INET, type: SessionSocket.raw, protocol: Int32(IPPROTO_UDP))
        say("ready")
        watch([tcp, udp], seconds: seconds) { socket, data in
            let header = Int(data[0] & 15) * 4
            guard data.count >= header + 4 else { return }
            let source = SessionPackets.text(data[12..<16])
            guard Int(data[header + 2]) << 8 | Int(data[header + 3]) == port else { return }
            if socket === tcp && data.count >= header + 14 && data[header + 13] & 0x02 != 0 { say("syn " + source) }
            if socket === udp { say("udp " + source) }
        }
        say("done")
    }

    static func sniffSynAck(_ a: inout SessionArguments) throws {
        let (port, seconds) = (try a.int("port"), try a.double("seconds"))
        let tcp = try SessionSocket(family: AF_INET, type: SessionSocket.raw, protocol: Int32(IPPROTO_TCP))
        say("ready")
        watch([tcp], seconds: seconds) { _, data in
            let header = Int(data[0] & 15) * 4
            guard data.count >= header + 14 else { return }
            if Int(data[header]) << 8 | Int(data[header + 1]) == port && data[header + 13] & 0x12 == 0x12 {
                say("synack " + SessionPackets.text(data[12..<16]))
            }
        }
        say("done")
    }

    /// Reads until STOPFILE exists (the sender is done), then 0.5 s more; at most 60 s.
    static func untilStopped(_ stop: String, _ socket: SessionSocket, _ take: (SessionSocket) -> Void) {
        let end = SessionClock.wall + 60
        var drain: Double?
        while SessionClock.wall < (drain ?? end) {
            if drain == nil && SessionClock.exists(stop) { drain = SessionClock.wall + 0.5 }
            if SessionClock.poll([socket.fd], Int16(POLLIN), seconds: 0.05)[0] { take(socket) }
        }
    }

    static func sniffAny(_ a: inout SessionArguments) throws {
        let stop = try a.string("stop file")
        // Every protocol (ETH_P_ALL, in network order) on a cooked packet socket.
        let socket = try SessionSocket(family: AF_PACKET, type: SessionSocket.datagram, protocol: Int32(UInt16(0x0003).bigEndian))
        say("ready")
        untilStopped(stop, socket) { socket in
            var data = [UInt8](repeating: 0, count: 2000)
            var link = sockaddr_storage()  // a sockaddr_ll: sll_pkttype is its byte 10
            var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
            let count = withUnsafeMutablePointer(to: &link) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { recvfrom(socket.fd, &data, data.count, 0, $0, &length) }
            }
            let packetOutgoing: UInt8 = 4  // PACKET_OUTGOING: what this host sent
            guard count > 0, withUnsafeBytes(of: link, { $0[10] }) != packetOutgoing else { return }
            if data[0] >> 4 == 4, count >= 20 { say("\(data[9]) " + SessionPackets.text(data[12..<16])) }
            else if data[0] >> 4 == 6, count >= 40 { say("\(data[6]) " + SessionPackets.text(data[8..<24])) }
        }
        say("done")
    }

    static func countRaw(_ a: inout SessionArguments) throws {
        let (number, address, stop) = (Int32(try a.int("protocol")), try a.string("address"), try a.string("stop file"))
        let socket = try SessionSocket(for: address, type: SessionSocket.raw, protocol: number)
        say("ready")
        var types: [String] = []
        untilStopped(stop, socket) { socket in
            let (result, data, _) = socket.receive(2000)
            guard result == .done, !data.isEmpty else { return }
            let offset = socket.family == AF_INET ? Int(data[0] & 15) * 4 : 0
            types.append(number == 1 || number == 58 ? String(data[offset]) : "-")
        }
        say("received \(types.count) types " + types.joined(separator: ","))
    }
}
