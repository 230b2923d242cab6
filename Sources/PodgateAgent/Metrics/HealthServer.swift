import Foundation
import PodgateModel

/// `--health-address`: a tiny HTTP/1.1 server on one dedicated thread for
/// `/metrics`, `/healthz` and `/readyz`. Requests are tiny and rare (a
/// scrape every few seconds), so they are served one at a time, each with a
/// short receive timeout so a stuck client cannot hold the thread.
final class HealthServer: Service {
    private let view: AgentView
    private let listener: SocketListener
    /// The address actually bound (a port of 0 picks a free one).
    let boundAddress: String

    /// Binds the address; `run` serves it.
    init(view: AgentView, address text: String) throws {
        self.view = view
        guard let (host, port) = Self.parse(text) else {
            throw AgentError.configuration("--health-address \(text) is not HOST:PORT such as 127.0.0.1:9808 or [::1]:9808")
        }
        let family = host.isIPv4 ? AF_INET : AF_INET6
        let fd = socket(family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw AgentError.system("creating the health socket", errno: errno, path: text) }
        var yes: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var storage = sockaddr_storage()
        let length = Self.fill(&storage, host: host, port: port)
        let bound = withUnsafePointer(to: &storage) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
        guard bound == 0, listen(fd, 16) == 0 else {
            let code = errno
            close(fd)
            throw AgentError.system("binding --health-address (is another agent using it?)", errno: code, path: text)
        }
        var actual = sockaddr_storage()
        var actualLength = socklen_t(MemoryLayout<sockaddr_storage>.size)
        _ = withUnsafeMutablePointer(to: &actual) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &actualLength) } }
        let actualPort = withUnsafeBytes(of: actual) { raw -> UInt16 in
            UInt16(bigEndian: raw.loadUnaligned(fromByteOffset: 2, as: UInt16.self))
        }
        listener = SocketListener(descriptor: fd, threadName: "podgate-health")
        boundAddress = host.isIPv4 ? "\(host):\(actualPort)" : "[\(host)]:\(actualPort)"
    }

    /// One request at a time, on the accepting thread.
    func run() async {
        await listener.run(serve: { [self] fd in
            answer(fd)
            close(fd)
        })
    }

    /// Closes the socket (also when `run` never ran).
    func stop() { listener.stop() }

    static func parse(_ text: String) -> (IPAddress, UInt16)? {
        guard let colon = text.lastIndex(of: ":"), let port = UInt16(text[text.index(after: colon)...]) else { return nil }
        var host = String(text[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard let address = IPAddress(host) else { return nil }
        return (address, port)
    }

    private static func fill(_ storage: inout sockaddr_storage, host: IPAddress, port: UInt16) -> socklen_t {
        let text = host.description
        func store<Address>(_ address: Address) -> socklen_t {
            withUnsafeMutableBytes(of: &storage) { raw in withUnsafeBytes(of: address) { raw.copyMemory(from: $0) } }
            return socklen_t(MemoryLayout<Address>.size)
        }
        if host.isIPv4 {
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = port.bigEndian
            inet_pton(AF_INET, text, &address.sin_addr)
            return store(address)
        }
        var address = sockaddr_in6()
        address.sin6_family = sa_family_t(AF_INET6)
        address.sin6_port = port.bigEndian
        inet_pton(AF_INET6, text, &address.sin6_addr)
        return store(address)
    }

    private func answer(_ fd: Int32) {
        var timeout = timeval(tv_sec: 2, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var reader = LineReader(fd: fd, maximumLine: 8192)
        guard let requestLine = reader.next() else { return }
        // Headers are read and ignored: nothing here depends on them.
        while let header = reader.next(), !header.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {}
        let (status, type, body) = respond(to: requestLine)
        SocketIO.send(fd, "HTTP/1.1 \(status)\r\nContent-Type: \(type)\r\nContent-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n\(body)")
    }

    func respond(to requestLine: String) -> (String, String, String) {
        let parts = requestLine.split(separator: " ")
        guard parts.count >= 2, parts[0] == "GET" || parts[0] == "HEAD" else { return ("405 Method Not Allowed", "text/plain", "GET only\n") }
        let path = parts[1].split(separator: "?").first.map(String.init) ?? "/"
        switch path {
        case "/healthz": return ("200 OK", "text/plain", "ok\n")
        case "/readyz":
            return view.isReady ? ("200 OK", "text/plain", "ready\n")
                : ("503 Service Unavailable", "text/plain", "not ready: the first full sync is not in the kernel yet\n")
        case "/metrics":
            return ("200 OK", "text/plain; version=0.0.4; charset=utf-8", MetricsText.render(metricsInput()))
        default: return ("404 Not Found", "text/plain", "not found: try /metrics, /healthz or /readyz\n")
        }
    }

    private func metricsInput() -> MetricsInput {
        let state = view.state
        let histograms = view.histograms
        return MetricsInput(counters: try? view.datapath.counters(), eventsEmitted: view.hub.emitted,
                            eventsSkipped: view.hub.skipped, maps: StatusBuilder.mapFill(view, state: state),
                            compileSeconds: histograms.compile, mapWriteSeconds: histograms.write,
                            lastSyncUnixSeconds: state?.lastSyncUnixSeconds,
                            invalidPolicies: state?.snapshot.invalidPolicies.count ?? 0, ready: state != nil,
                            resyncRepairs: view.resyncRepairs)
    }
}
