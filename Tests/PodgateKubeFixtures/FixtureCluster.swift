import Foundation
import Synchronization

/// A stateful fixture API server: objects per collection path, one
/// resourceVersion counter, lists of the current state and live watch
/// streams from any resourceVersion not yet compacted away (older ones get
/// `410 Gone` as an ERROR event, as the real server sends it). Objects are
/// JSON texts holding `__RV__` where their resourceVersion goes.
public final class FixtureCluster: Sendable {
    public static let rvPlaceholder = "__RV__"

    struct Event {
        var version: Int
        var path: String
        var text: String
    }

    struct State {
        var version = 100
        var objects: [String: [String: String]] = [:]   // path -> name -> JSON with its version
        var events: [Event] = []
        /// Watches from a version below this one are answered with 410.
        var oldestWatchable = 0
        var lists: [String: Int] = [:]
    }

    final class Store: Sendable {
        let state = Mutex(State())
    }

    /// Where one watch stream has got to.
    final class Cursor: Sendable {
        let version: Mutex<Int>
        init(_ version: Int) { self.version = Mutex(version) }
    }

    private let store = Store()
    public let server: FakeAPIServer

    /// `objects`: collection path -> JSON texts (with `__RV__`) present at start.
    public init(objects: [String: [String]]) throws {
        let store = self.store
        server = try FakeAPIServer { request, _ in Self.answer(request, store: store) }
        for (path, texts) in objects { for text in texts { put(path, text) } }
    }

    public var url: String { server.url }

    public func stop() { server.stop() }

    /// How many lists of `path` were answered (relists show here).
    public func listCount(_ path: String) -> Int { store.state.withLock { $0.lists[path] ?? 0 } }

    /// Adds or replaces the object of that `metadata.name`; returns its version.
    @discardableResult
    public func put(_ path: String, _ template: String) -> Int {
        store.state.withLock { state in
            state.version += 1
            let text = template.replacingOccurrences(of: Self.rvPlaceholder, with: "\(state.version)")
            let name = Self.name(of: text)
            let type = state.objects[path]?[name] == nil ? "ADDED" : "MODIFIED"
            state.objects[path, default: [:]][name] = text
            state.events.append(Event(version: state.version, path: path, text: Fixtures.event(type, text)))
            return state.version
        }
    }

    public func delete(_ path: String, name: String) {
        store.state.withLock { state in
            guard let old = state.objects[path]?.removeValue(forKey: name) else { return }
            state.version += 1
            let text = Self.replacingVersion(in: old, with: state.version)
            state.events.append(Event(version: state.version, path: path, text: Fixtures.event("DELETED", text)))
        }
    }

    /// Compaction: every watch from a version before now gets 410 Gone,
    /// open streams included (they end with the ERROR event); a fresh list
    /// gives a version that can be watched from.
    public func compact() {
        store.state.withLock { state in
            state.version += 1
            state.oldestWatchable = state.version
        }
    }

    private static func answer(_ request: FakeAPIServer.Request, store: Store) -> FakeAPIServer.Reply {
        let path = request.path
        if !request.isWatch {
            return store.state.withLock { state in
                state.lists[path, default: 0] += 1
                let items = (state.objects[path] ?? [:]).keys.sorted().map { state.objects[path]![$0]! }
                return .json(status: 200, body: Fixtures.listJSON(kind: "List", items: items, resourceVersion: "\(state.version)"))
            }
        }
        let cursor = Cursor(Int(request.query["resourceVersion"] ?? "") ?? 0)
        return .live {
            store.state.withLock { state in
                cursor.version.withLock { from in
                    // -1: the 410 was sent; the real server then ends the stream.
                    if from == -1 { return nil }
                    if from < state.oldestWatchable {
                        defer { from = -1 }
                        return [Fixtures.goneEvent("too old resource version: \(from) (\(state.oldestWatchable))")]
                    }
                    let pending = state.events.filter { $0.path == path && $0.version > from }
                    if let last = pending.last { from = last.version }
                    return pending.map(\.text)
                }
            }
        }
    }

    static func name(of text: String) -> String {
        let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]
        return (object?["metadata"] as? [String: Any])?["name"] as? String ?? ""
    }

    static func replacingVersion(in text: String, with version: Int) -> String {
        guard let range = text.range(of: #""resourceVersion":""#) else { return text }
        let end = text[range.upperBound...].firstIndex(of: "\"") ?? range.upperBound
        return text.replacingCharacters(in: range.upperBound..<end, with: "\(version)")
    }
}
