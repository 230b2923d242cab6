#if canImport(Glibc)
import Glibc
#endif

/// The result of one socket call in a session: done, an errno, or the
/// session's own timeout expired (as a socket with a timeout reports it).
enum SessionResult: Equatable {
    case done
    case failed(Int32)
    case timedOut

    /// The words the tests read: `connected` (or `success`), `EPERM` for
    /// EPERM and EACCES, `refused` (unless `refused` is nil: then `oserror
    /// 111`), `timeout` (also for ETIMEDOUT), else `oserror N`.
    func word(_ success: String = "connected", refused: String? = "refused") -> String {
        switch self {
        case .done: return success
        case .timedOut, .failed(ETIMEDOUT): return "timeout"
        case .failed(EPERM), .failed(EACCES): return "EPERM"
        case .failed(ECONNREFUSED) where refused != nil: return refused!
        case .failed(let code): return "oserror \(code)"
        }
    }
}

/// An address and port as `sockaddr_in` or `sockaddr_in6`: IPv6 when the
/// text has a colon (so `::ffff:a.b.c.d` is the IPv4-mapped IPv6 form).
struct SessionAddress {
    var storage = sockaddr_storage()
    var length: socklen_t
    let family: Int32

    init(_ text: String, port: Int) throws {
        if text.contains(":") {
            var address = sockaddr_in6()
            address.sin6_family = sa_family_t(AF_INET6)
            address.sin6_port = in_port_t(UInt16(truncatingIfNeeded: port).bigEndian)
            guard inet_pton(AF_INET6, text, &address.sin6_addr) == 1 else { throw SimError("\(text) is not an IPv6 address") }
            storage = Self.storage(of: address)
            (length, family) = (socklen_t(MemoryLayout<sockaddr_in6>.size), AF_INET6)
        } else {
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = in_port_t(UInt16(truncatingIfNeeded: port).bigEndian)
            guard inet_pton(AF_INET, text, &address.sin_addr) == 1 else { throw SimError("\(text) is not an IPv4 address") }
            storage = Self.storage(of: address)
            (length, family) = (socklen_t(MemoryLayout<sockaddr_in>.size), AF_INET)
        }
    }

    init(storage: sockaddr_storage, length: socklen_t) {
        self.storage = storage
        self.length = length
        family = Int32(storage.ss_family)
    }

    /// `address` in a `sockaddr_storage` (copied inside both closures: a
    /// pointer must not outlive the closure that lent it).
    private static func storage<Address>(of address: Address) -> sockaddr_storage {
        var storage = sockaddr_storage()
        withUnsafeBytes(of: address) { source in withUnsafeMutableBytes(of: &storage) { $0.copyMemory(from: source) } }
        return storage
    }

    static func family(of text: String) -> Int32 { text.contains(":") ? AF_INET6 : AF_INET }

    func withSockaddr<R>(_ body: (UnsafePointer<sockaddr>, socklen_t) -> R) -> R {
        withUnsafeBytes(of: storage) { body($0.baseAddress!.assumingMemoryBound(to: sockaddr.self), length) }
    }

    /// The address as text, as Python's `peer[0]`.
    var host: String {
        var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
        withUnsafeBytes(of: storage) { raw in
            if family == AF_INET6 {
                let address = raw.load(as: sockaddr_in6.self)
                withUnsafeBytes(of: address.sin6_addr) { _ = inet_ntop(AF_INET6, $0.baseAddress, &text, socklen_t(text.count)) }
            } else {
                let address = raw.load(as: sockaddr_in.self)
                withUnsafeBytes(of: address.sin_addr) { _ = inet_ntop(AF_INET, $0.baseAddress, &text, socklen_t(text.count)) }
            }
        }
        return String(cString: text)
    }
}

/// One socket with an optional timeout, the way a script's socket behaves:
/// with a timeout it is non-blocking and each call waits at most that long.
final class SessionSocket {
    static let stream = Int32(SOCK_STREAM.rawValue)
    static let datagram = Int32(SOCK_DGRAM.rawValue)
    static let raw = Int32(SOCK_RAW.rawValue)

    let fd: Int32
    let family: Int32
    let type: Int32
    private(set) var timeout: Double?

    init(family: Int32, type: Int32, protocol number: Int32 = 0) throws {
        fd = socket(family, type | Int32(SOCK_CLOEXEC.rawValue), number)
        guard fd >= 0 else { throw SimError("socket(\(family), \(type), \(number)): \(errnoText())") }
        (self.family, self.type) = (family, type)
    }

    deinit { close(fd) }

    /// A socket of the family `address` is written in.
    convenience init(for address: String, type: Int32, protocol number: Int32 = 0) throws {
        try self.init(family: SessionAddress.family(of: address), type: type, protocol: number)
    }

    /// nil: blocking. A number: non-blocking, each call waits that long.
    func setTimeout(_ seconds: Double?) {
        timeout = seconds
        let flags = fcntl(fd, F_GETFL)
        _ = fcntl(fd, F_SETFL, seconds == nil ? flags & ~O_NONBLOCK : flags | O_NONBLOCK)
    }

    /// Non-blocking without a timeout: calls fail with EAGAIN at once.
    func setNonBlocking() {
        timeout = nil
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
    }

    func option(_ level: Int32, _ name: Int32, _ value: Int32) throws {
        var value = value
        guard setsockopt(fd, level, name, &value, socklen_t(MemoryLayout<Int32>.size)) == 0 else {
            throw SimError("setsockopt(\(level), \(name)): \(errnoText())")
        }
    }

    func reuseAddress() throws { try option(SOL_SOCKET, SO_REUSEADDR, 1) }

    func bind(_ host: String, port: Int) throws {
        guard case .done = try bound(host, port: port) else { throw SimError("bind \(host) \(port): \(errnoText())") }
    }

    /// bind, its failure as a result (a probe reports it like a failed connect).
    func bound(_ host: String, port: Int) throws -> SessionResult {
        let address = try SessionAddress(host, port: port)
        return address.withSockaddr({ Glibc.bind(fd, $0, $1) }) == 0 ? .done : .failed(errno)
    }

    func listen(_ backlog: Int32) throws {
        guard Glibc.listen(fd, backlog) == 0 else { throw SimError("listen: \(errnoText())") }
    }

    /// Waits for `events` within the timeout (none: forever); false when it expired.
    func wait(_ events: Int16, seconds: Double? = nil) -> Bool {
        guard let limit = seconds ?? timeout else { return true }
        return SessionClock.poll([fd], events, seconds: limit).first ?? false
    }

    func connect(_ host: String, port: Int) throws -> SessionResult {
        let address = try SessionAddress(host, port: port)
        if address.withSockaddr({ Glibc.connect(fd, $0, $1) }) == 0 { return .done }
        let code = errno
        guard code == EINPROGRESS, timeout != nil else { return .failed(code) }
        guard wait(Int16(POLLOUT)) else { return .timedOut }
        var pending: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &pending, &length)
        return pending == 0 ? .done : .failed(pending)
    }

    /// sendto (`host` nil: send on a connected socket); with a timeout, EAGAIN waits and tries again.
    func send(_ bytes: [UInt8], to host: String? = nil, port: Int = 0, flags: Int32 = 0) throws -> SessionResult {
        let address = try host.map { try SessionAddress($0, port: port) }
        while true {
            let sent = bytes.withUnsafeBytes { buffer in
                if let address {
                    return address.withSockaddr { sendto(fd, buffer.baseAddress, buffer.count, flags | Int32(MSG_NOSIGNAL), $0, $1) }
                }
                return Glibc.send(fd, buffer.baseAddress, buffer.count, flags | Int32(MSG_NOSIGNAL))
            }
            if sent >= 0 { return .done }
            let code = errno
            if code == EINTR { continue }
            if code == EAGAIN, timeout != nil {
                guard wait(Int16(POLLOUT)) else { return .timedOut }
                continue
            }
            return .failed(code)
        }
    }

    /// One datagram or read, and who sent it.
    func receive(_ size: Int = 2000) -> (result: SessionResult, bytes: [UInt8], peer: SessionAddress?) {
        while true {
            if timeout != nil, !wait(Int16(POLLIN)) { return (.timedOut, [], nil) }
            var buffer = [UInt8](repeating: 0, count: size)
            var storage = sockaddr_storage()
            var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
            let count = withUnsafeMutablePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { recvfrom(fd, &buffer, size, 0, $0, &length) }
            }
            if count >= 0 {
                return (.done, Array(buffer[0..<count]), length > 0 ? SessionAddress(storage: storage, length: length) : nil)
            }
            let code = errno
            if code == EINTR || (code == EAGAIN && timeout != nil) { continue }
            return (.failed(code), [], nil)
        }
    }

    /// accept within the timeout: the connection and the peer, or nil when it expired.
    func accept() throws -> (SessionSocket, SessionAddress)? {
        if timeout != nil, !wait(Int16(POLLIN)) { return nil }
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let connection = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.accept(fd, $0, &length) }
        }
        guard connection >= 0 else { throw SimError("accept: \(errnoText())") }
        _ = fcntl(connection, F_SETFD, FD_CLOEXEC)
        return (SessionSocket(adopting: connection, family: family), SessionAddress(storage: storage, length: length))
    }

    private init(adopting fd: Int32, family: Int32) {
        (self.fd, self.family, self.type) = (fd, family, Self.stream)
    }
}

/// Clocks and waits of the session modes.
enum SessionClock {
    /// Wall-clock seconds (as Python's time.time()).
    static var wall: Double {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
    }

    static func sleep(_ seconds: Double) { usleep(UInt32(max(0, seconds) * 1_000_000)) }

    static func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }

    /// Which of `fds` are ready for `events` within `seconds`.
    static func poll(_ fds: [Int32], _ events: Int16, seconds: Double) -> [Bool] {
        var entries = fds.map { pollfd(fd: $0, events: events, revents: 0) }
        let deadline = Monotonic.seconds + seconds
        while true {
            let remaining = max(0, deadline - Monotonic.seconds)
            let count = Glibc.poll(&entries, nfds_t(entries.count), Int32((remaining * 1000).rounded(.up)))
            if count < 0 && errno == EINTR { continue }
            return entries.map { $0.revents != 0 }
        }
    }
}
