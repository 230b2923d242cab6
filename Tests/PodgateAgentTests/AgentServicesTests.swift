import Foundation
import Testing
import PodgateAgent
import PodgateAgentFakes

/// The control socket and the health endpoint run as services in the
/// agent's task group: they answer while it runs and are gone once `run` returns.
@Suite struct AgentServicesTests {
    @Test func theServersAnswerWhileTheAgentRunsAndCloseWithIt() async throws {
        let source = FakeClusterSource()
        let run = try FakeAgentRun(datapath: FakeDatapath(), source: source)
        try await run.wait(for: "the health address") { Self.healthPort(run) != nil }
        let port = try #require(Self.healthPort(run))
        #expect(try Self.status(run).ready == false)
        #expect(try Self.get("/readyz", port: port).hasPrefix("HTTP/1.1 503"))

        let cluster = CompileStepTests.cluster()
        source.script(FakeClusterSource.ready(cluster.0, cgroups: cluster.1, generation: 1))
        source.wake()
        try await run.wait(for: "generation 1") { run.appliedGeneration == 1 }
        #expect(try Self.status(run).ready == true)
        #expect(try Self.get("/readyz", port: port).hasPrefix("HTTP/1.1 200"))

        let socket = ControlClient.socketPath(stateDirectory: run.stateDirectory)
        try await run.stop()
        #expect(access(socket, F_OK) != 0)
        #expect(throws: (any Error).self) { try Self.get("/healthz", port: port) }
    }

    static func healthPort(_ run: FakeAgentRun) -> UInt16? {
        guard let text = try? String(contentsOfFile: run.stateDirectory + "/health-address", encoding: .utf8),
              let colon = text.lastIndex(of: ":") else { return nil }
        return UInt16(text[text.index(after: colon)...].trimmingCharacters(in: .whitespacesAndNewlines))
    }

    struct NoAnswer: Error {}

    /// `status` over the control socket; a server that does not answer fails the read after 30 s instead of hanging.
    static func status(_ run: FakeAgentRun) throws -> StatusReport {
        let fd = try ControlClient.open(stateDirectory: run.stateDirectory, ControlRequest(op: .status))
        defer { close(fd) }
        limitReads(fd)
        var reader = LineReader(fd: fd)
        guard let line = reader.next(), let status = try JSONDecoder().decode(ControlResponse.self, from: Data(line.utf8)).status else {
            throw NoAnswer()
        }
        return status
    }

    /// The response's status line and the rest, from 127.0.0.1:`port`.
    static func get(_ path: String, port: UInt16) throws -> String {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw NoAnswer() }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw NoAnswer() }
        limitReads(fd)
        guard SocketIO.send(fd, "GET \(path) HTTP/1.1\r\nHost: podgate\r\n\r\n") else { throw NoAnswer() }
        var reader = LineReader(fd: fd)
        guard let line = reader.next() else { throw NoAnswer() }
        return line
    }

    static func limitReads(_ fd: Int32) {
        var timeout = timeval(tv_sec: 30, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }
}
