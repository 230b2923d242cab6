#if canImport(Glibc)
import Glibc
#endif
import PodgateModel

/// One connection attempt, as a pod's application would make it.
/// TCP allow: connect completes and the byte comes back. UDP allow: the datagram
/// comes back. Anything else within the timeout is a deny, and we say which kind.
struct ProbeClient {
    let address: IPAddress
    let port: Int
    let transport: TransportProtocol
    let family: AddressFamily
    let timeout: Double

    struct Outcome {
        let allowed: Bool
        let how: String
        var line: String { (allowed ? "allowed: " : "denied: ") + how }
        var exitCode: Int32 { allowed ? 0 : 1 }
    }

    func run() -> Outcome {
        let start = Monotonic.seconds
        let deadline = start + timeout
        let domain = family == .ipv4 ? AF_INET : AF_INET6
        let fd = socket(domain, transport == .tcp ? Sockets.stream : Sockets.datagram, 0)
        guard fd >= 0 else { return Outcome(allowed: false, how: "socket failed: \(errnoText())") }
        defer { close(fd) }
        Sockets.setNonBlocking(fd)
        func elapsed() -> String { "\(Int((Monotonic.seconds - start) * 1000)) ms" }
        func failure(_ code: Int32, at stage: String) -> Outcome {
            switch code {
            case EPERM, EACCES: return Outcome(allowed: false, how: "\(errnoName(code)) at \(stage) after \(elapsed())")
            case ECONNREFUSED: return Outcome(allowed: false, how: "refused at \(stage) after \(elapsed())")
            default: return Outcome(allowed: false, how: "\(errnoName(code)) at \(stage) after \(elapsed())")
            }
        }

        let connected = Sockets.connect(fd, to: address, port: port, family: family)
        if transport == .tcp {
            if connected != 0 && connected != EINPROGRESS { return failure(connected, at: "connect") }
            guard Sockets.wait(fd, for: Int16(POLLOUT), until: deadline) else {
                return Outcome(allowed: false, how: "timeout at connect after \(elapsed())")
            }
            let pending = Sockets.pendingError(fd)
            if pending != 0 { return failure(pending, at: "connect") }
        } else if connected != 0 {
            return failure(connected, at: "connect")
        }

        let payload: [UInt8] = Array("podgate-probe".utf8)
        if send(fd, payload, transport == .tcp ? 1 : payload.count, Int32(MSG_NOSIGNAL)) < 0 {
            return failure(errno, at: "send")
        }
        var buffer = [UInt8](repeating: 0, count: 64)
        while true {
            guard Sockets.wait(fd, for: Int16(POLLIN), until: deadline) else {
                return Outcome(allowed: false, how: "timeout waiting for the echo after \(elapsed())")
            }
            let n = recv(fd, &buffer, buffer.count, 0)
            if n > 0 { return Outcome(allowed: true, how: "echo after \(elapsed())") }
            if n == 0 { return Outcome(allowed: false, how: "closed without an echo after \(elapsed())") }
            if errno == EAGAIN || errno == EINTR { continue }
            return failure(errno, at: "receive")
        }
    }

    func errnoName(_ code: Int32) -> String {
        switch code {
        case EPERM: return "EPERM"
        case EACCES: return "EACCES"
        case ECONNREFUSED: return "ECONNREFUSED"
        case ETIMEDOUT: return "ETIMEDOUT"
        case ENETUNREACH: return "ENETUNREACH"
        case EHOSTUNREACH: return "EHOSTUNREACH"
        case ECONNRESET: return "ECONNRESET"
        default: return "errno \(code) (\(errnoText(code)))"
        }
    }
}
