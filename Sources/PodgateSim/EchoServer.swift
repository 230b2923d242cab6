#if canImport(Glibc)
import Glibc
#endif

/// The pod's "application": echoes every TCP byte and UDP datagram back.
/// One poll loop, non-blocking sockets, so concurrent probes never wait on each other.
struct EchoServer {
    private var listeners: [(fd: Int32, type: Int32)] = []
    private var connections: [Int32] = []

    mutating func add(port: Int, type: Int32) throws {
        let fd = try Sockets.bindAny(port: port, type: type)
        Sockets.setNonBlocking(fd)
        listeners.append((fd, type))
    }

    mutating func run() -> Never {
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            var fds = listeners.map { pollfd(fd: $0.fd, events: Int16(POLLIN), revents: 0) }
                + connections.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
            if fds.isEmpty { pause(); continue }
            guard Glibc.poll(&fds, nfds_t(fds.count), -1) > 0 else { continue }
            for (index, entry) in fds.enumerated() where entry.revents != 0 {
                if index < listeners.count {
                    serve(listeners[index], buffer: &buffer)
                } else {
                    echo(entry.fd, buffer: &buffer)
                }
            }
        }
    }

    private mutating func serve(_ listener: (fd: Int32, type: Int32), buffer: inout [UInt8]) {
        if listener.type == Sockets.stream {
            let fd = accept(listener.fd, nil, nil)
            guard fd >= 0 else { return }
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
            Sockets.setNonBlocking(fd)
            if connections.count > 512 { close(connections.removeFirst()) }
            connections.append(fd)
            return
        }
        var peer = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let n = withUnsafeMutablePointer(to: &peer) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { recvfrom(listener.fd, &buffer, buffer.count, 0, $0, &length) }
        }
        guard n >= 0 else { return }
        _ = withUnsafePointer(to: &peer) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { sendto(listener.fd, buffer, n, Int32(MSG_NOSIGNAL), $0, length) }
        }
    }

    private mutating func echo(_ fd: Int32, buffer: inout [UInt8]) {
        let n = recv(fd, &buffer, buffer.count, 0)
        if n > 0 {
            _ = send(fd, buffer, n, Int32(MSG_NOSIGNAL))
        } else if n == 0 || (errno != EAGAIN && errno != EINTR) {
            close(fd)
            connections.removeAll { $0 == fd }
        }
    }
}
