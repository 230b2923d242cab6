#if canImport(Glibc)
import Glibc
#endif
import PodgateModel

/// Thin socket wrappers: sockaddr juggling in one place.
public enum Sockets {
    public static let stream = Int32(SOCK_STREAM.rawValue)
    public static let datagram = Int32(SOCK_DGRAM.rawValue)

    /// A socket bound to port `port` on every address and, for TCP, listening.
    /// Dual-stack [::] by default (IPv4, IPv6 and IPv4-mapped all reach it);
    /// `ipv4Only` binds 0.0.0.0 with an AF_INET socket instead.
    public static func bindAny(port: Int, type: Int32, ipv4Only: Bool = false, backlog: Int32 = 128) throws -> Int32 {
        let fd = socket(ipv4Only ? AF_INET : AF_INET6, type, 0)
        guard fd >= 0 else { throw LabError("socket: \(errnoText())") }
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        var off: Int32 = 0
        var on: Int32 = 1
        if !ipv4Only { setsockopt(fd, Int32(IPPROTO_IPV6), IPV6_V6ONLY, &off, socklen_t(MemoryLayout<Int32>.size)) }
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, socklen_t(MemoryLayout<Int32>.size))
        let bound: Int32
        if ipv4Only {
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = in_port_t(UInt16(port).bigEndian)
            bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
        } else {
            var address = sockaddr_in6()
            address.sin6_family = sa_family_t(AF_INET6)
            address.sin6_port = in_port_t(UInt16(port).bigEndian)
            bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) }
            }
        }
        guard bound == 0 else {
            let text = errnoText()
            close(fd)
            throw LabError("bind \(ipv4Only ? "0.0.0.0" : "[::]"):\(port) \(type == stream ? "TCP" : "UDP"): \(text)")
        }
        if type == stream, listen(fd, backlog) != 0 {
            let text = errnoText()
            close(fd)
            throw LabError("listen :\(port): \(text)")
        }
        return fd
    }

    /// A close-on-exec socket for `address`'s family (or AF_INET6 when `ipv6Socket`), or -1.
    public static func open(for address: IPAddress, type: Int32, ipv6Socket: Bool = false, nonBlocking: Bool = false) -> Int32 {
        let flags = Int32(SOCK_CLOEXEC.rawValue) | (nonBlocking ? Int32(SOCK_NONBLOCK.rawValue) : 0)
        return socket(address.isIPv4 && !ipv6Socket ? AF_INET : AF_INET6, type | flags, 0)
    }

    /// Connects `fd` to address:port. `ipv6Socket`: fd is AF_INET6 (an IPv4
    /// address then goes as ::ffff:a.b.c.d). Returns 0 or errno (EINPROGRESS
    /// for a non-blocking socket still connecting).
    public static func connect(_ fd: Int32, to address: IPAddress, port: Int, ipv6Socket: Bool = false) -> Int32 {
        let result: Int32
        if address.isIPv4 && !ipv6Socket {
            var target = sockaddr_in()
            target.sin_family = sa_family_t(AF_INET)
            target.sin_port = in_port_t(UInt16(port).bigEndian)
            target.sin_addr.s_addr = (address.ipv4Value ?? 0).bigEndian
            result = withUnsafePointer(to: &target) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
        } else {
            // IPAddress keeps IPv4 as ::ffff:a.b.c.d: exactly the ipv4-mapped form.
            var target = sockaddr_in6()
            target.sin6_family = sa_family_t(AF_INET6)
            target.sin6_port = in_port_t(UInt16(port).bigEndian)
            withUnsafeMutableBytes(of: &target.sin6_addr) { $0.copyBytes(from: address.bytes) }
            result = withUnsafePointer(to: &target) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) }
            }
        }
        return result == 0 ? 0 : errno
    }

    public static func setNonBlocking(_ fd: Int32) {
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
    }

    public static func setNoDelay(_ fd: Int32) {
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
    }

    /// Waits for `events` on fd; false on timeout.
    public static func wait(_ fd: Int32, for events: Int16, until deadline: Double) -> Bool {
        while true {
            let remaining = deadline - Monotonic.seconds
            if remaining <= 0 { return false }
            var entry = pollfd(fd: fd, events: events, revents: 0)
            let n = Glibc.poll(&entry, 1, Int32(max(1, remaining * 1000)))
            if n > 0 { return true }
            if n < 0 && errno != EINTR { return true }
        }
    }

    public static func pendingError(_ fd: Int32) -> Int32 {
        var value: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &value, &length)
        return value
    }
}
