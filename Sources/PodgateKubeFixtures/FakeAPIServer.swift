import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A loopback HTTP/1.1 server that answers like the Kubernetes API server
/// where the agent depends on it: JSON lists with Content-Length, watch
/// streams in chunked encoding (each piece its own chunk, optionally
/// delayed), and the ways streams end: cleanly, cut mid-event, or stalled.
public final class FakeAPIServer: @unchecked Sendable {
    // @unchecked: `requests`, `connections` and `stopped` are guarded by `lock`;
    // `listener`, `port` and `handler` are set in init and never change.

    public struct Request: Sendable {
        public var path: String
        public var query: [String: String]
        public var authorization: String?
        /// Which accepted connection carried it (0-based, in accept order): a
        /// client that keeps its connection alive sends several over one.
        public var connection: Int = 0
        public var isWatch: Bool { query["watch"] == "1" }
    }

    public enum StreamEnd: Sendable {
        case clean   // terminating zero-length chunk
        case cut     // connection closed without it (a dropped stream)
        case stall   // nothing more, connection kept open
    }

    public enum Reply: Sendable {
        case json(status: Int, body: String, delayMilliseconds: Int = 0)
        case stream(pieces: [String], pieceDelayMilliseconds: Int = 0, end: StreamEnd)
        /// A live stream: `next` is asked every 20 ms for the pieces to send
        /// now; nil ends the stream cleanly. Ends too when the server stops.
        case live(next: @Sendable () -> [String]?)
        /// Like `live`, with every way a stream ends: `next` is asked every
        /// `pollMilliseconds`.
        case events(pollMilliseconds: Int, next: @Sendable () -> LiveStep)
        /// Headers never come: the request hangs until the client gives up.
        case hang
    }

    public enum LiveStep: Sendable {
        case send([String])
        case end(StreamEnd)
    }

    public let host: String
    public let port: UInt16
    private let listener: Int32
    private let handler: @Sendable (Request, Int) -> Reply
    private let lock = NSLock()
    private var requests: [Request] = []
    private var connections: Set<Int32> = []
    private var accepted = 0
    private var stopped = false

    /// `handler` gets each request and its 0-based index; `port` 0 picks a
    /// free one (a server restarted on the port of a stopped one gives it,
    /// with its `host`). Without a `host` each server gets a loopback address
    /// of its own: a client of a stopped server (another test's, still
    /// retrying) can then never reach a new server that took the same port.
    public init(host given: String? = nil, port requested: UInt16 = 0, handler: @escaping @Sendable (Request, Int) -> Reply) throws {
        self.handler = handler
        host = given ?? Self.nextLoopbackHost()
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = Self.loopback(host: host, port: requested)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 16) == 0 else { close(fd); throw POSIXError(.EADDRINUSE) }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        listener = fd
        port = UInt16(bigEndian: address.sin_port)
        let thread = Thread { [self] in acceptLoop() }
        thread.start()
    }

    /// `host`:`port` (127.0.0.1 unless told).
    public static func loopback(host: String = "127.0.0.1", port: UInt16) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr(host)
        address.sin_port = port.bigEndian
        return address
    }

    private static let serversMade = Atomic<Int>(0)

    /// A fresh address in 127.0.0.0/8 (all of it is the loopback device's):
    /// 127.P.N.M, P from this process's ID, N.M counting the servers it made.
    static func nextLoopbackHost() -> String {
        let made = serversMade.add(1, ordering: .relaxed).newValue
        return "127.\(20 + Int(getpid()) % 200).\(made / 250 % 250).\(made % 250 + 1)"
    }

    /// Answers a fixed sequence of replies, then hangs every further request.
    public convenience init(script: [Reply]) throws {
        try self.init { _, index in index < script.count ? script[index] : .hang }
    }

    public var url: String { "http://\(host):\(port)" }

    public var received: [Request] { lock.withLock { requests } }

    /// Connections accepted so far.
    public var acceptedConnections: Int { lock.withLock { accepted } }

    public func stop() {
        let open = lock.withLock { () -> Set<Int32> in
            stopped = true
            return connections
        }
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
        for connection in open { shutdown(connection, Int32(SHUT_RDWR)) }
    }

    private var isStopped: Bool { lock.withLock { stopped } }

    private func acceptLoop() {
        while !isStopped {
            let connection = accept(listener, nil, nil)
            guard connection >= 0 else {
                // Only a closed listener ends the loop; a connection that failed
                // while queued (or a momentary fd shortage) must not stop the server.
                if isStopped { return }
                if errno != EINTR && errno != ECONNABORTED { usleep(10_000) }
                continue
            }
            let ordinal = lock.withLock { () -> Int? in
                guard !stopped else { return nil }
                connections.insert(connection)
                accepted += 1
                return accepted - 1
            }
            guard let ordinal else { close(connection); return }
            let thread = Thread { [self] in
                serve(connection, ordinal: ordinal)
                lock.withLock { _ = connections.remove(connection) }
                close(connection)
            }
            thread.start()
        }
    }

    /// HTTP/1.1 keeps a connection open by default (RFC 9112, section 9.3):
    /// after an answer with a Content-Length the next request may come over
    /// the same connection, as from the API server. Streams end theirs.
    private func serve(_ connection: Int32, ordinal: Int) {
        while serveOne(connection, ordinal: ordinal) {}
    }

    /// Answers one request; true when the connection stays open for another.
    private func serveOne(_ connection: Int32, ordinal: Int) -> Bool {
        guard var request = readRequest(connection) else { return false }
        request.connection = ordinal
        let index = lock.withLock { () -> Int in
            requests.append(request)
            return requests.count - 1
        }
        switch handler(request, index) {
        case let .json(status, body, delay):
            if delay > 0 { usleep(UInt32(delay) * 1000) }
            let bytes = Array(body.utf8)
            send(connection, "HTTP/1.1 \(status) \(Self.reason(status))\r\nContent-Type: application/json\r\n"
                 + "Content-Length: \(bytes.count)\r\n\r\n")
            send(connection, bytes)
            return !isStopped
        case let .stream(pieces, delay, end):
            send(connection, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n")
            for piece in pieces {
                if delay > 0 { usleep(UInt32(delay) * 1000) }
                let bytes = Array(piece.utf8)
                send(connection, String(bytes.count, radix: 16) + "\r\n")
                send(connection, bytes + Array("\r\n".utf8))
            }
            switch end {
            case .clean: send(connection, "0\r\n\r\n")
            case .cut: return false
            case .stall: waitForClose(connection)
            }
        case let .live(next):
            send(connection, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n")
            var entry = pollfd(fd: connection, events: Int16(POLLIN), revents: 0)
            var scratch = [UInt8](repeating: 0, count: 512)
            while !isStopped {
                guard let pieces = next() else {
                    send(connection, "0\r\n\r\n")
                    return false
                }
                for piece in pieces {
                    let bytes = Array(piece.utf8)
                    send(connection, String(bytes.count, radix: 16) + "\r\n")
                    send(connection, bytes + Array("\r\n".utf8))
                }
                // The client went away: stop feeding it.
                guard poll(&entry, 1, 20) >= 0 else { return false }
                if entry.revents != 0 && recv(connection, &scratch, scratch.count, 0) <= 0 { return false }
            }
        case let .events(interval, next):
            send(connection, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n")
            var entry = pollfd(fd: connection, events: Int16(POLLIN), revents: 0)
            var scratch = [UInt8](repeating: 0, count: 512)
            while !isStopped {
                switch next() {
                case let .send(pieces):
                    for piece in pieces {
                        let bytes = Array(piece.utf8)
                        send(connection, String(bytes.count, radix: 16) + "\r\n")
                        send(connection, bytes + Array("\r\n".utf8))
                    }
                case .end(.clean):
                    send(connection, "0\r\n\r\n")
                    return false
                case .end(.cut):
                    return false
                case .end(.stall):
                    break
                }
                guard poll(&entry, 1, Int32(interval)) >= 0 else { return false }
                if entry.revents != 0 && recv(connection, &scratch, scratch.count, 0) <= 0 { return false }
            }
        case .hang:
            waitForClose(connection)
        }
        return false
    }

    /// Holds the connection until the client closes it or the server stops.
    private func waitForClose(_ connection: Int32) {
        var entry = pollfd(fd: connection, events: Int16(POLLIN), revents: 0)
        var scratch = [UInt8](repeating: 0, count: 512)
        while !isStopped {
            guard poll(&entry, 1, 20) >= 0 else { return }
            if entry.revents != 0 && recv(connection, &scratch, scratch.count, 0) <= 0 { return }
        }
    }

    private func readRequest(_ connection: Int32) -> Request? {
        var data: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while !data.ends(with: Array("\r\n\r\n".utf8)) {
            let count = recv(connection, &buffer, buffer.count, 0)
            guard count > 0 else { return nil }
            data += buffer[0..<count]
        }
        let lines = String(decoding: data, as: UTF8.self).components(separatedBy: "\r\n")
        let parts = lines.first?.split(separator: " ") ?? []
        guard parts.count >= 2 else { return nil }
        let target = String(parts[1])
        let components = URLComponents(string: target)
        var query: [String: String] = [:]
        for item in components?.queryItems ?? [] { query[item.name] = item.value ?? "" }
        let authorization = lines.first { $0.lowercased().hasPrefix("authorization:") }
            .map { String($0.dropFirst("authorization:".count)).trimmingCharacters(in: .whitespaces) }
        return Request(path: components?.path ?? target, query: query, authorization: authorization)
    }

    private func send(_ connection: Int32, _ text: String) { send(connection, Array(text.utf8)) }

    private func send(_ connection: Int32, _ bytes: [UInt8]) {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes { Glibc.send(connection, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard sent > 0 else { return }
            offset += sent
        }
    }

    private static func reason(_ status: Int) -> String {
        [200: "OK", 401: "Unauthorized", 403: "Forbidden", 410: "Gone", 500: "Internal Server Error",
         503: "Service Unavailable"][status] ?? "Status"
    }
}

private extension Array where Element == UInt8 {
    func ends(with suffix: [UInt8]) -> Bool { count >= suffix.count && Array(self[(count - suffix.count)...]) == suffix }
}

/// Splits `text` into pieces of `size` bytes (UTF-8 safe for ASCII JSON).
public func pieces(_ text: String, size: Int) -> [String] {
    let bytes = Array(text.utf8)
    return stride(from: 0, to: bytes.count, by: size).map { String(decoding: bytes[$0..<Swift.min($0 + size, bytes.count)], as: UTF8.self) }
}
