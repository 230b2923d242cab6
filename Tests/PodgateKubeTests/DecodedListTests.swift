import Foundation
import Synchronization
import Testing
import PodgateModel
@testable import PodgateKube
import PodgateKubeFixtures

/// ListWatch hands objects as the consumer decodes them (issue 15, item 3):
/// while a list is read page by page only the decoded values are held, and
/// a list that fails part-way and starts again delivers only what the new
/// list holds.
@Suite(.serialized) struct DecodedListTests {
    final class Seen: Sendable {
        let changes = Mutex<[DecodedChange<String>]>([])
        let decoded = Mutex<[String]>([])
    }

    static func pod(_ name: String) -> String { Fixtures.podJSON(name, uid: "uid-\(name)", resourceVersion: "5") }

    @Test func aListRestartedAfterAnExpiredContinueTokenDeliversOnlyTheNewList() async throws {
        let server = try FakeAPIServer(script: [
            .json(status: 200, body: Fixtures.listJSON(items: [Self.pod("a"), Self.pod("b")], resourceVersion: "5", continueToken: "t1")),
            // [concepts] "Retrieving large results sets in chunks": an expired continue token answers 410.
            .json(status: 410, body: Fixtures.statusJSON(code: 410, reason: "Expired", message: "The provided continue parameter is too old")),
            .json(status: 200, body: Fixtures.listJSON(items: [Self.pod("c")], resourceVersion: "9")),
        ])
        defer { server.stop() }
        let seen = Seen()
        let listWatch = ListWatch(client: HTTPClient(config: KubeConfig(server: server.url)), resource: .pods,
                                  settings: ListWatchServerTests.fast)
        let task = Task {
            await listWatch.run(decode: { object -> String in
                let name = ObjectKey(object: object)?.name ?? "?"
                seen.decoded.withLock { $0.append(name) }
                return "decoded \(name)"
            }, onChange: { change in seen.changes.withLock { $0.append(change) } }, onReport: { _ in })
        }
        // Generous: in the full suite, kernel suites can hold the cooperative
        // pool's threads for tens of seconds, and this task waits for one.
        let deadline = ContinuousClock.now + .seconds(120)
        while seen.changes.withLock({ $0.isEmpty }), ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
        task.cancel()
        await task.value
        let changes = seen.changes.withLock { $0 }
        guard case let .synced(objects)? = changes.first else {
            Issue.record("no synced list: \(changes)")
            return
        }
        #expect(objects.values.sorted() == ["decoded c"], "objects of the abandoned list leaked into the new one: \(objects)")
        #expect(objects.keys.map(\.uid) == ["uid-c"])
        // Each object was decoded as its page arrived, once.
        #expect(seen.decoded.withLock { $0 } == ["a", "b", "c"])
    }
}
