#if canImport(Glibc)
import Glibc
#endif

/// Session modes that serve inside a pod; each prints `ready` once bound:
///
///     serve ADDR PORT                  accepts and closes, forever
///     listen ADDR PORT WAIT            one accept: `accepted PEER`, or `timeout`
///     accept-loop ADDR PORT...         accepts and closes on every port, forever
///     listen-dual PORT SECONDS         AF_INET6 dual-stack on [::]: `accepted PEER` (the first), or `done`
///     udp-echo ADDR PORT WAIT          answers one datagram: `echoed PEER`, or `timeout`
///     echo-server ADDR TCP,.. UDP,..   IPv4 TCP and UDP echo, connections kept open
///     echo-backlog0 ADDR PORT          a TCP echo server whose listen() backlog is 0
///     hold SRC STOPFILE NAME,tcp|udp,DST,PORT...
///         holds each connection, a byte there and back every 2 ms; `cut NAME T ERRNO`
///         (T: CLOCK_MONOTONIC s) when one stops working; at STOPFILE `alive NAME` for the rest
enum SessionServers {
    static let modes: [String: HelperSession.Mode] = [
        "serve": serve, "listen": listenOnce, "accept-loop": acceptLoop, "listen-dual": listenDual,
        "udp-echo": udpEcho, "echo-server": echoServer, "echo-backlog0": echoBacklog0, "hold": hold,
    ]

    static func listener(_ address: String, _ port: Int, backlog: Int32, family: Int32? = nil) throws -> SessionSocket {
        let socket = try SessionSocket(family: family ?? SessionAddress.family(of: address), type: SessionSocket.stream)
        try socket.reuseAddress()
        try socket.bind(address, port: port)
        try socket.listen(backlog)
        return socket
    }

    static func serve(_ a: inout SessionArguments) throws {
        let socket = try listener(try a.string("address"), try a.int("port"), backlog: 64)
        say("ready")
        while true { _ = try socket.accept() }
    }

    static func listenOnce(_ a: inout SessionArguments) throws {
        let (address, port, wait) = (try a.string("address"), try a.int("port"), try a.double("wait"))
        let socket = try listener(address, port, backlog: 8)
        socket.setTimeout(wait)
        say("ready")
        if let (_, peer) = try socket.accept() { say("accepted " + peer.host) } else { say("timeout") }
    }

    static func acceptLoop(_ a: inout SessionArguments) throws {
        let address = try a.string("address")
        var sockets: [SessionSocket] = []
        while a.hasMore { sockets.append(try listener(address, try a.int("port"), backlog: 512)) }
        say("ready")
        while true {
            let ready = SessionClock.poll(sockets.map(\.fd), Int16(POLLIN), seconds: 3600)
            for (socket, isReady) in zip(sockets, ready) where isReady { _ = try socket.accept() }
        }
    }

    static func listenDual(_ a: inout SessionArguments) throws {
        let (port, seconds) = (try a.int("port"), try a.double("seconds"))
        let socket = try SessionSocket(family: AF_INET6, type: SessionSocket.stream)
        try socket.option(Int32(IPPROTO_IPV6), IPV6_V6ONLY, 0)
        try socket.reuseAddress()
        try socket.bind("::", port: port)
        try socket.listen(64)
        socket.setTimeout(seconds)
        say("ready")
        if let (_, peer) = try socket.accept() { say("accepted " + peer.host) } else { say("done") }
    }

    static func udpEcho(_ a: inout SessionArguments) throws {
        let (address, port, wait) = (try a.string("address"), try a.int("port"), try a.double("wait"))
        let socket = try SessionSocket(for: address, type: SessionSocket.datagram)
        try socket.bind(address, port: port)
        socket.setTimeout(wait)
        say("ready")
        let (result, bytes, peer) = socket.receive(100)
        guard result == .done, let peer else { say(result.word()); return }
        _ = try socket.send(bytes, to: peer.host, port: peer.port)
        say("echoed " + peer.host)
    }

    static func echoServer(_ a: inout SessionArguments) throws {
        let address = try a.string("address")
        func ports(_ text: String) -> [Int] { text.split(separator: ",").compactMap { Int($0) } }
        let tcp = try ports(a.string("tcp ports")).map { try listener(address, $0, backlog: 64, family: AF_INET) }
        let udp = try ports(a.string("udp ports")).map { port in
            let socket = try SessionSocket(family: AF_INET, type: SessionSocket.datagram)
            try socket.bind(address, port: port)
            return socket
        }
        say("ready")
        echo(listeners: tcp, datagrams: udp)
    }

    static func echoBacklog0(_ a: inout SessionArguments) throws {
        let socket = try listener(try a.string("address"), try a.int("port"), backlog: 0, family: AF_INET)
        say("ready")
        echo(listeners: [socket], datagrams: [])
    }

    /// Accepts and keeps connections, echoes what they send, answers each datagram; forever.
    static func echo(listeners: [SessionSocket], datagrams: [SessionSocket]) -> Never {
        var connections: [SessionSocket] = []
        while true {
            let all = listeners + datagrams + connections
            let ready = SessionClock.poll(all.map(\.fd), Int16(POLLIN), seconds: 3600)
            for (socket, isReady) in zip(all, ready) where isReady {
                if listeners.contains(where: { $0 === socket }) {
                    if let (connection, _) = try? socket.accept() { connections.append(connection) }
                } else if datagrams.contains(where: { $0 === socket }) {
                    let (result, bytes, peer) = socket.receive(2048)
                    if result == .done, let peer { _ = try? socket.send(bytes, to: peer.host, port: peer.port) }
                } else {
                    let (result, bytes, _) = socket.receive(2048)
                    if result == .done, !bytes.isEmpty, (try? socket.send(bytes)) == .done { continue }
                    connections.removeAll { $0 === socket }
                }
            }
        }
    }

    static func hold(_ a: inout SessionArguments) throws {
        let (source, stop) = (try a.string("source"), try a.string("stop file"))
        var held: [(name: String, socket: SessionSocket)] = []
        for spec in a.remaining {
            let parts = spec.split(separator: ",").map(String.init)
            guard parts.count == 4, let port = Int(parts[3]) else { throw SimError("hold: \(spec) is not NAME,tcp|udp,DST,PORT") }
            let socket = try SessionSocket(family: AF_INET, type: parts[1] == "tcp" ? SessionSocket.stream : SessionSocket.datagram)
            try socket.bind(source, port: 0)
            socket.setTimeout(3)
            // Proves the path works.
            var result = try socket.connect(parts[2], port: port)
            if result == .done { result = try socket.send(Array("x".utf8)) }
            if result == .done { result = socket.receive(16).result }
            guard result == .done else { throw SimError("hold \(parts[0]): \(result.word())") }
            socket.setNonBlocking()
            held.append((parts[0], socket))
        }
        say("ready")
        while !SessionClock.exists(stop) {
            for (name, socket) in held {
                var result = try socket.send(Array("x".utf8))
                if result == .done, socket.wait(Int16(POLLIN), seconds: 0.5) {
                    let (received, bytes, _) = socket.receive(16)
                    result = received
                    if received == .done, socket.type == SessionSocket.stream, bytes.isEmpty { result = .failed(ECONNRESET) }
                }
                if case .failed(let code) = result {
                    say("cut \(name) \(String(format6: Clock.now)) \(code)")
                    held.removeAll { $0.name == name }
                }
            }
            SessionClock.sleep(0.002)
        }
        for name in held.map(\.name).sorted() { say("alive " + name) }
    }
}

extension SessionAddress {
    var port: Int {
        withUnsafeBytes(of: storage) { raw in
            family == AF_INET6 ? Int(UInt16(bigEndian: raw.load(as: sockaddr_in6.self).sin6_port))
                               : Int(UInt16(bigEndian: raw.load(as: sockaddr_in.self).sin_port))
        }
    }
}
