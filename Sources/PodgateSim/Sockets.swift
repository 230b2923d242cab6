#if canImport(Glibc)
import Glibc
#endif
import PodgateModel

// Glibc's module hides these GNU functions (no _GNU_SOURCE); their ABI is plain.
@_silgen_name("setns") private func c_setns(_ fd: Int32, _ type: Int32) -> Int32
@_silgen_name("prctl") private func c_prctl(_ option: Int32, _ arg: UInt, _ a3: UInt, _ a4: UInt, _ a5: UInt) -> Int32

private let CLONE_NEWNET_FLAG: Int32 = 0x4000_0000
private let PR_SET_PDEATHSIG_OPTION: Int32 = 1

/// What a helper process does to become "a process of that pod".
enum Isolation {
    /// Enters /run/netns/NAME. Only the calling thread moves: helpers are single-threaded.
    static func enterNetns(_ name: String) throws {
        let fd = open("/run/netns/" + name, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw SimError("cannot open network namespace \(name): \(errnoText())") }
        defer { close(fd) }
        guard c_setns(fd, CLONE_NEWNET_FLAG) == 0 else { throw SimError("setns \(name): \(errnoText())") }
    }

    /// The simulator itself: when whoever started it goes away (a closed
    /// terminal, a killed test run), SIGTERM runs the usual cleanup.
    static func cleanUpWhenParentDies() {
        let parent = getppid()
        _ = c_prctl(PR_SET_PDEATHSIG_OPTION, UInt(SIGTERM), 0, 0, 0)
        if getppid() != parent { kill(getpid(), SIGTERM) }
    }

    /// Die with the simulator, even if it is SIGKILLed.
    static func dieWithParent() {
        let parent = getppid()
        _ = c_prctl(PR_SET_PDEATHSIG_OPTION, UInt(SIGKILL), 0, 0, 0)
        if getppid() != parent { exit(2) }
    }
}

/// Thin socket wrappers: sockaddr juggling in one place.
enum Sockets {
    static let stream = Int32(SOCK_STREAM.rawValue)
    static let datagram = Int32(SOCK_DGRAM.rawValue)

    /// A dual-stack socket bound to [::]:port: IPv4, IPv6 and IPv4-mapped all reach it.
    static func bindAny(port: Int, type: Int32) throws -> Int32 {
        let fd = socket(AF_INET6, type, 0)
        guard fd >= 0 else { throw SimError("socket: \(errnoText())") }
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        var off: Int32 = 0
        var on: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_IPV6), IPV6_V6ONLY, &off, socklen_t(MemoryLayout<Int32>.size))
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in6()
        address.sin6_family = sa_family_t(AF_INET6)
        address.sin6_port = in_port_t(UInt16(port).bigEndian)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) }
        }
        guard bound == 0 else {
            let text = errnoText()
            close(fd)
            throw SimError("bind [::]:\(port) \(type == stream ? "TCP" : "UDP"): \(text)")
        }
        if type == stream, listen(fd, 128) != 0 { throw SimError("listen :\(port): \(errnoText())") }
        return fd
    }

    /// Connects `fd` (non-blocking) to address:port as the family asks. Returns 0 or errno.
    static func connect(_ fd: Int32, to address: IPAddress, port: Int, family: AddressFamily) -> Int32 {
        let result: Int32
        if family == .ipv4 {
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

    static func setNonBlocking(_ fd: Int32) {
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
    }

    /// Waits for `events` on fd; false on timeout.
    static func wait(_ fd: Int32, for events: Int16, until deadline: Double) -> Bool {
        while true {
            let remaining = deadline - Clock.now
            if remaining <= 0 { return false }
            var entry = pollfd(fd: fd, events: events, revents: 0)
            let n = Glibc.poll(&entry, 1, Int32(max(1, remaining * 1000)))
            if n > 0 { return true }
            if n < 0 && errno != EINTR { return true }
        }
    }

    static func pendingError(_ fd: Int32) -> Int32 {
        var value: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &value, &length)
        return value
    }
}
