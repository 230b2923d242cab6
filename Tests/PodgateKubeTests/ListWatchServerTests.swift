import Foundation
import Synchronization
import Testing
import PodgateTestSupport
import PodgateModel
@testable import PodgateKube
import PodgateKubeFixtures

/// What a ListWatch delivered, as the agent's cache would hold it.
final class Recorder: Sendable {
    struct State {
        var store = ObjectStore()
        var changes: [ResourceChange] = []
        var reports: [String] = []
        /// The smallest number of objects held after the first sync.
        var lowWater = Int.max
    }
    let state = Mutex(State())

    func change(_ change: ResourceChange) {
        state.withLock {
            $0.store.apply(change)
            $0.changes.append(change)
            if $0.store.hasSynced { $0.lowWater = min($0.lowWater, $0.store.objects.count) }
        }
    }
    func report(_ line: String) { state.withLock { $0.reports.append(line) } }
    var names: Set<String> { state.withLock { Set($0.store.objects.keys.map(\.name)) } }
    var reports: [String] { state.withLock { $0.reports } }
    var lowWater: Int { state.withLock { $0.lowWater } }
    var syncCount: Int { state.withLock { $0.changes.filter { if case .synced = $0 { true } else { false } }.count } }
}

@Suite(.serialized) struct ListWatchServerTests {
    static let fast = ListWatch.Settings(pageSize: 2, backoff: BackoffPolicy(initialMilliseconds: 10, maximumMilliseconds: 40, jitter: 0.2),
                                         watchTimeoutSeconds: 300...300, seed: 7)

    static func pod(_ name: String, rv: String) -> String {
        Fixtures.podJSON(name, uid: "uid-\(name)", resourceVersion: rv)
    }

    static func list(_ names: [String], rv: String, continueToken: String? = nil) -> FakeAPIServer.Reply {
        .json(status: 200, body: Fixtures.listJSON(items: names.map { pod($0, rv: rv) }, resourceVersion: rv, continueToken: continueToken))
    }

    static func status(_ code: Int, _ reason: String, _ message: String) -> FakeAPIServer.Reply {
        .json(status: code, body: Fixtures.statusJSON(code: code, reason: reason, message: message))
    }

    /// Runs a ListWatch for pods against `server` until `done` holds (or 10 s).
    static func run(_ server: FakeAPIServer, config: KubeConfig? = nil, timeouts: HTTPTimeouts = HTTPTimeouts(stallSeconds: 30),
                    until done: @escaping @Sendable (Recorder) -> Bool) async throws -> Recorder {
        let recorder = Recorder()
        let client = HTTPClient(config: config ?? KubeConfig(server: server.url), timeouts: timeouts)
        let listWatch = ListWatch(client: client, resource: .pods, settings: fast)
        let task = Task(executorPreference: ThreadExecutor.shared) { await listWatch.run(onChange: recorder.change, onReport: recorder.report) }
        // The wait and the stop run on that thread too: a test body held off the
        // cooperative pool must not let the watch run on past its condition.
        try await Task(executorPreference: ThreadExecutor.shared) {
            let deadline = ContinuousClock.now + .seconds(60)  // generous: the full suite loads both cores
            while !done(recorder), ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
            task.cancel()
            await task.value
        }.value
        server.stop()
        #expect(done(recorder), "gave up waiting; requests: \(server.received.map { "\($0.path)?\($0.query)" }), reports: \(recorder.reports)")
        return recorder
    }

    @Test func paginatedListThenWatchWithBookmarks() async throws {
        let server = try FakeAPIServer(script: [
            Self.list(["a", "b"], rv: "100", continueToken: "eyJydiI6MTAwfQ+/="),
            Self.list(["c"], rv: "100"),
            .stream(pieces: [Fixtures.event("ADDED", Self.pod("d", rv: "101")), Fixtures.bookmark("150")], end: .clean),
            .stream(pieces: [Fixtures.event("DELETED", Self.pod("a", rv: "151"))], end: .stall),
        ])
        let recorder = try await Self.run(server) { $0.names == ["b", "c", "d"] }
        let requests = server.received
        // A stop here, not a crash of the whole test process, if a request is missing.
        try #require(requests.count == 4, "\(requests.map(\.path))")
        #expect(requests[0].path == "/api/v1/pods" && requests[0].query["limit"] == "2" && requests[0].query["continue"] == nil)
        #expect(requests[1].query["continue"] == "eyJydiI6MTAwfQ+/=")
        #expect(requests[2].isWatch && requests[2].query["resourceVersion"] == "100" && requests[2].query["allowWatchBookmarks"] == "true")
        // The clean end after events resumes from the bookmark, not the last object.
        #expect(requests[3].query["resourceVersion"] == "150")
        #expect(recorder.syncCount == 1)
        #expect(recorder.lowWater >= 3)
    }

    @Test func cutStreamResumesFromTheLastVersionAndDropsThePartialEvent() async throws {
        let cutEvent = Fixtures.event("ADDED", Self.pod("half", rv: "103"))
        let server = try FakeAPIServer(script: [
            Self.list(["a"], rv: "100"),
            // Events split across chunks, then a cut in the middle of an event.
            .stream(pieces: pieces(Fixtures.event("ADDED", Self.pod("b", rv: "101")) + Fixtures.bookmark("102"), size: 97)
                        + [String(cutEvent.prefix(cutEvent.count / 2))], pieceDelayMilliseconds: 1, end: .cut),
            .stream(pieces: [Fixtures.event("MODIFIED", Self.pod("b", rv: "104"))], end: .stall),
        ])
        let recorder = try await Self.run(server) { $0.state.withLock { $0.changes.count } >= 3 }
        let requests = server.received
        #expect(requests.count == 3)
        #expect(requests[2].isWatch && requests[2].query["resourceVersion"] == "102")
        #expect(recorder.names == ["a", "b"])
        #expect(recorder.reports.contains { $0.contains("discarded") })
        #expect(recorder.lowWater == 1)
        #expect(recorder.syncCount == 1)
    }

    @Test(arguments: ["status", "event"])
    func goneRelistsWithoutGoingBack(form: String) async throws {
        let secondWatch: FakeAPIServer.Reply = form == "status"
            ? Self.status(410, "Expired", "too old resource version: 120 (300)")
            : .stream(pieces: [Fixtures.goneEvent("too old resource version: 120 (300)"),
                               Fixtures.event("ADDED", Self.pod("never", rv: "999"))], end: .stall)
        let server = try FakeAPIServer(script: [
            Self.list(["a", "b"], rv: "100"),
            .stream(pieces: [Fixtures.bookmark("120")], end: .cut),
            secondWatch,
            // While away, b was deleted and c created: the relist replaces the state.
            Self.list(["a", "c"], rv: "300"),
            .stream(pieces: [Fixtures.bookmark("301")], end: .stall),
        ])
        let recorder = try await Self.run(server) { $0.syncCount == 2 && $0.names == ["a", "c"] && server.received.count >= 5 }
        let requests = server.received
        #expect(requests[2].query["resourceVersion"] == "120")
        #expect(!requests[3].isWatch && requests[3].query["resourceVersion"] == nil)
        #expect(requests[4].isWatch && requests[4].query["resourceVersion"] == "300")
        // Versions asked for never go back.
        let versions = requests.filter(\.isWatch).compactMap { $0.query["resourceVersion"].flatMap(Int.init) }
        #expect(versions == versions.sorted())
        #expect(!recorder.names.contains("never"))
        #expect(recorder.lowWater == 2)
    }

    @Test func unauthorizedForbiddenAndServerErrorsAreRetried() async throws {
        let server = try FakeAPIServer(script: [
            Self.status(401, "Unauthorized", "Unauthorized"),
            Self.status(403, "Forbidden", #"pods is forbidden: User \"system:serviceaccount:podgate:podgate\" cannot list resource \"pods\""#),
            Self.status(503, "ServiceUnavailable", "the server is currently unable to handle the request"),
            .json(status: 500, body: "<html>proxy error</html>"),
            Self.list(["a"], rv: "100"),
            Self.status(500, "InternalError", "etcd leader changed"),
            .stream(pieces: [Fixtures.event("ADDED", Self.pod("b", rv: "101"))], end: .stall),
        ])
        let recorder = try await Self.run(server) { $0.names == ["a", "b"] }
        let reports = recorder.reports.joined(separator: "\n")
        #expect(reports.contains("HTTP 401"))
        #expect(reports.contains("cannot list resource"))
        #expect(reports.contains("HTTP 503"))
        #expect(reports.contains("etcd leader changed"))
        #expect(server.received[6].query["resourceVersion"] == "100")
    }

    @Test func rotatedTokenIsPickedUp() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("podgate-token-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let tokenFile = directory.appendingPathComponent("token").path
        try "token-1\n".write(toFile: tokenFile, atomically: true, encoding: .utf8)
        let server = try FakeAPIServer { request, _ in
            guard request.authorization == "Bearer token-2" else { return Self.status(401, "Unauthorized", "Unauthorized") }
            return request.isWatch ? .stream(pieces: [Fixtures.bookmark("101")], end: .stall) : Self.list(["a"], rv: "100")
        }
        let config = KubeConfig(server: server.url, token: .file(tokenFile))
        let rotate = Task {
            while !server.received.contains(where: { $0.authorization == "Bearer token-1" }) { try await Task.sleep(for: .milliseconds(5)) }
            // The kubelet swaps the projected token in place.
            try "token-2\n".write(toFile: tokenFile, atomically: true, encoding: .utf8)
        }
        let recorder = try await Self.run(server, config: config) { _ in server.received.contains { $0.isWatch } }
        try await rotate.value
        #expect(recorder.names == ["a"])
        #expect(server.received.first?.authorization == "Bearer token-1")
        #expect(server.received.last?.authorization == "Bearer token-2")
    }

    @Test func stalledStreamIsCutAndResumed() async throws {
        let server = try FakeAPIServer(script: [
            Self.list(["a"], rv: "100"),
            .stream(pieces: [Fixtures.bookmark("110")], end: .stall),
            .stream(pieces: [Fixtures.event("ADDED", Self.pod("b", rv: "111"))], end: .stall),
        ])
        let started = ContinuousClock.now
        let recorder = try await Self.run(server, timeouts: HTTPTimeouts(stallSeconds: 1)) { $0.names == ["a", "b"] }
        // Cut after about the 1 s stall limit, never after the default 120 s (generous: machines are shared).
        #expect(ContinuousClock.now - started < .seconds(30))
        #expect(server.received[2].query["resourceVersion"] == "110")
        #expect(recorder.reports.contains { $0.contains("watch failed") })
        #expect(recorder.lowWater == 1)
    }

    @Test func slowListAnswersAndSlowChunksAreWaitedFor() async throws {
        let server = try FakeAPIServer(script: [
            .json(status: 200, body: Fixtures.listJSON(items: [Self.pod("a", rv: "100")], resourceVersion: "100"), delayMilliseconds: 300),
            .stream(pieces: pieces(Fixtures.event("ADDED", Self.pod("b", rv: "101")), size: 200), pieceDelayMilliseconds: 40, end: .stall),
        ])
        let recorder = try await Self.run(server) { $0.names == ["a", "b"] }
        #expect(recorder.reports.isEmpty)
    }

    @Test func cancellationStopsAHangingRequestPromptly() async throws {
        let server = try FakeAPIServer(script: [])
        let client = HTTPClient(config: KubeConfig(server: server.url))
        let listWatch = ListWatch(client: client, resource: .pods, settings: Self.fast)
        let task = Task { await listWatch.run(onChange: { _ in }, onReport: { _ in }) }
        let deadline = ContinuousClock.now + .seconds(30)
        while server.received.isEmpty, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(5)) }
        #expect(!server.received.isEmpty, "the request never reached the fixture server")
        let cancelled = ContinuousClock.now
        task.cancel()
        await task.value
        #expect(ContinuousClock.now - cancelled < .seconds(3))
        server.stop()
    }

    @Test func connectionRefusedIsRetriedWithBackoff() async throws {
        // A port with nothing listening, kept bound (not listening) for the
        // whole test: a closed port could be taken by another suite's server
        // running in parallel, whose script this client would then consume.
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = FakeAPIServer.loopback(port: 0)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        #expect(bound)
        let url = "http://127.0.0.1:\(UInt16(bigEndian: address.sin_port))"
        let recorder = Recorder()
        let client = HTTPClient(config: KubeConfig(server: url))
        let listWatch = ListWatch(client: client, resource: .pods, settings: Self.fast)
        let task = Task(executorPreference: ThreadExecutor.shared) { await listWatch.run(onChange: recorder.change, onReport: recorder.report) }
        // Until four retries were reported: in the full suite the task may
        // start late (kernel suites hold the cooperative pool's threads).
        let deadline = ContinuousClock.now + .seconds(30)
        while recorder.reports.count < 4, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
        task.cancel()
        await task.value
        let delays = recorder.reports.compactMap { line in line.split(separator: " ").reversed().dropFirst().first.flatMap { Int($0) } }
        #expect(delays.count >= 4)
        #expect(delays.allSatisfy { $0 <= 40 })
        #expect(recorder.reports.first?.contains("list failed") == true)
        #expect(recorder.syncCount == 0)
    }
}
