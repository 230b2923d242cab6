import Foundation
import Synchronization

/// A stateful fixture API server written from the upstream documents, not
/// from podgate's decoder. Where podgate and this file disagree, the
/// documents decide. Sources, cited next to each behaviour:
/// - [concepts]: https://kubernetes.io/docs/reference/using-api/api-concepts/
/// - [conventions]: https://github.com/kubernetes/community/blob/master/contributors/devel/sig-architecture/api-conventions.md
/// - [list-options]: the query parameters of every list/watch in the API
///   reference (https://kubernetes.io/docs/reference/kubernetes-api/common-parameters/common-parameters/)
/// - kubernetes/kubernetes#98925: the items of a built-in list carry no kind/apiVersion.
///
/// Objects are JSON texts. `__RV__` in a text is replaced by the version the
/// write got (kept for tests that build objects by template).
public final class FixtureCluster: Sendable {
    public static let rvPlaceholder = "__RV__"

    /// How a watch from a compacted version is refused. [concepts] "Efficient
    /// detection of changes": the server answers 410 Gone; a watch already
    /// open (served from the watch cache) gets it as an ERROR event whose
    /// object is a Status with code 410, and the stream then ends.
    public enum GoneForm: Sendable { case httpStatus, errorEvent }

    struct Event {
        var version: Int
        var path: String
        var type: String
        var object: [String: Any]
    }

    struct State: @unchecked Sendable {
        // @unchecked: JSON dictionaries, only touched under the Mutex.
        /// [concepts] "Resource versions": one counter for the whole store
        /// (etcd's revision); clients treat it as opaque.
        var version = 100
        var objects: [String: [String: [String: Any]]] = [:]   // path -> "namespace/name" -> object
        var events: [Event] = []
        /// Watches and continue tokens from before this version are compacted away.
        var oldestWatchable = 0
        var lists: [String: Int] = [:]
        /// Consistent list snapshots by the version they were taken at, for continue tokens.
        var snapshots: [Int: [String: [[String: Any]]]] = [:]
        var goneForm = GoneForm.errorEvent
        var bookmarkMilliseconds = 60_000
        var stalled = false
        var dropGeneration = 0
    }

    final class Store: Sendable {
        let state = Mutex(State())
        let server = Mutex<FakeAPIServer?>(nil)
    }

    private let store = Store()
    public let port: UInt16
    public let host: String

    /// `objects`: collection path -> JSON texts present at start.
    public init(objects: [String: [String]] = [:]) throws {
        let store = self.store
        let server = try FakeAPIServer { request, _ in Self.answer(request, store: store) }
        port = server.port
        host = server.host
        store.server.withLock { $0 = server }
        for (path, texts) in objects.sorted(by: { $0.key < $1.key }) { for text in texts { put(path, text) } }
    }

    public var url: String { "http://\(host):\(port)" }
    public var server: FakeAPIServer? { store.server.withLock { $0 } }

    public func stop() { store.server.withLock { $0?.stop(); $0 = nil } }

    /// The API server goes away: connections refused, open streams cut.
    public func goDown() { stop() }

    /// Back on the same address, with every object written meanwhile.
    public func comeBack() throws {
        let store = self.store
        let server = try FakeAPIServer(host: host, port: port) { request, _ in Self.answer(request, store: store) }
        store.server.withLock { $0 = server }
    }

    public var received: [FakeAPIServer.Request] { server?.received ?? [] }

    /// How many lists of `path` were answered (first pages; relists show here).
    public func listCount(_ path: String) -> Int { store.state.withLock { $0.lists[path] ?? 0 } }

    public func setGoneForm(_ form: GoneForm) { store.state.withLock { $0.goneForm = form } }

    /// [concepts] "Watch bookmarks": sent at the server's discretion; the
    /// real server sends one about once a minute.
    public func setBookmarkInterval(milliseconds: Int) { store.state.withLock { $0.bookmarkMilliseconds = milliseconds } }

    /// Open and new watch streams go silent (no events, no bookmarks), the
    /// connections stay open: a stalled stream (a hung proxy, a lost path).
    public func setStalled(_ stalled: Bool) { store.state.withLock { $0.stalled = stalled } }

    /// Every open watch stream is cut mid-stream, without the closing chunk.
    public func dropWatches() { store.state.withLock { $0.dropGeneration += 1 } }

    /// The current resourceVersion.
    public var resourceVersion: Int { store.state.withLock { $0.version } }

    /// Creates or replaces (by namespace/name) an object; returns its version.
    /// Server-side defaults are filled in as the API server does on create;
    /// an update keeps uid and creationTimestamp ([conventions] "Metadata").
    @discardableResult
    public func put(_ path: String, _ template: String) -> Int {
        store.state.withLock { state in
            state.version += 1
            let text = template.replacingOccurrences(of: Self.rvPlaceholder, with: "\(state.version)")
            guard var object = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] else {
                preconditionFailure("fixture object is not a JSON object: \(text)")
            }
            let key = Self.key(of: object)
            let old = state.objects[path]?[key]
            ServerDefaults.apply(to: &object, path: path, version: state.version, previous: old)
            state.objects[path, default: [:]][key] = object
            state.events.append(Event(version: state.version, path: path, type: old == nil ? "ADDED" : "MODIFIED", object: object))
            return state.version
        }
    }

    /// A graceful delete: [concepts]/[conventions] "deletionTimestamp": the
    /// object stays, terminating, with `metadata.deletionTimestamp` and
    /// `deletionGracePeriodSeconds` set (a MODIFIED event) until the kubelet
    /// (or whoever holds a finalizer) lets it go with `delete`.
    public func beginDeletion(_ path: String, namespace: String?, name: String, graceSeconds: Int = 30) {
        store.state.withLock { state in
            let key = (namespace.map { "\($0)/" } ?? "") + name
            guard var object = state.objects[path]?[key] else { return }
            state.version += 1
            var metadata = object["metadata"] as? [String: Any] ?? [:]
            metadata["deletionTimestamp"] = ServerDefaults.timestamp(Date().addingTimeInterval(Double(graceSeconds)))
            metadata["deletionGracePeriodSeconds"] = graceSeconds
            metadata["resourceVersion"] = "\(state.version)"
            object["metadata"] = metadata
            state.objects[path]![key] = object
            state.events.append(Event(version: state.version, path: path, type: "MODIFIED", object: object))
        }
    }

    /// The object is gone: one DELETED event carrying its last state at a new version.
    public func delete(_ path: String, namespace: String? = "demo", name: String) {
        store.state.withLock { state in
            let key = (path.hasSuffix("/namespaces") ? "" : (namespace.map { "\($0)/" } ?? "")) + name
            guard var object = state.objects[path]?.removeValue(forKey: key) else { return }
            state.version += 1
            var metadata = object["metadata"] as? [String: Any] ?? [:]
            metadata["resourceVersion"] = "\(state.version)"
            object["metadata"] = metadata
            state.events.append(Event(version: state.version, path: path, type: "DELETED", object: object))
        }
    }

    /// Compaction: [concepts] "Efficient detection of changes": the server
    /// keeps a limited history (etcd: 5 minutes by default); a watch from an
    /// older version, open streams included, and a continue token of an older
    /// list, get 410 Gone. A fresh list gives a version that can be watched from.
    public func compact() {
        store.state.withLock { state in
            state.version += 1
            state.oldestWatchable = state.version
            state.snapshots = [:]
        }
    }

    // MARK: - Answers

    private static func answer(_ request: FakeAPIServer.Request, store: Store) -> FakeAPIServer.Reply {
        guard let type = ResourceType(path: request.path) else {
            return .json(status: 404, body: Fixtures.statusJSON(code: 404, reason: "NotFound", message: "the server could not find the requested resource"))
        }
        let selector: FieldSelector
        do { selector = try FieldSelector(request.query["fieldSelector"] ?? "", type: type) } catch {
            // [list-options] fieldSelector: an unsupported field is a 400 BadRequest.
            return .json(status: 400, body: Fixtures.statusJSON(code: 400, reason: "BadRequest", message: "\(error)"))
        }
        // [list-options] watch: "Watch for changes to the described resources"; "1" and "true" both mean it.
        if request.query["watch"] == "1" || request.query["watch"] == "true" {
            return watch(request, type: type, selector: selector, store: store)
        }
        return list(request, type: type, selector: selector, store: store)
    }

    /// [concepts] "Collections" and [conventions] "Lists and Simple kinds":
    /// the answer is a `<Kind>List` with `metadata.resourceVersion` (the
    /// version the list was read at) and `items`; built-in items carry no
    /// kind/apiVersion (kubernetes/kubernetes#98925); a custom resource's
    /// items do (they are served unstructured).
    private static func list(_ request: FakeAPIServer.Request, type: ResourceType, selector: FieldSelector, store: Store) -> FakeAPIServer.Reply {
        store.state.withLock { state in
            let limit = Int(request.query["limit"] ?? "") ?? 0
            var version = state.version
            var start = 0
            if let token = request.query["continue"], !token.isEmpty {
                // [list-options] continue: a token whose snapshot is compacted
                // answers 410 ResourceExpired; the client must restart the list.
                guard let decoded = ContinueToken(token), state.snapshots[decoded.version]?[request.path] != nil, decoded.version >= state.oldestWatchable else {
                    return .json(status: 410, body: Fixtures.statusJSON(
                        code: 410, reason: "Expired",
                        message: "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter."))
                }
                version = decoded.version
                start = decoded.offset
            } else {
                state.lists[request.path, default: 0] += 1
                // [concepts] "Retrieving large results sets in chunks": every
                // page of one list is read at the version of the first page.
                let all = (state.objects[request.path] ?? [:]).keys.sorted().map { state.objects[request.path]![$0]! }
                state.snapshots[version, default: [:]][request.path] = all
            }
            let all = (state.snapshots[version]?[request.path] ?? []).filter(selector.matches)
            let end = limit > 0 ? min(all.count, start + limit) : all.count
            let page = start < all.count ? Array(all[start..<end]) : []
            var metadata: [String: Any] = ["resourceVersion": "\(version)"]
            if end < all.count {
                // [list-options] limit: "continue" is set and `remainingItemCount` says how many follow.
                metadata["continue"] = ContinueToken(version: version, offset: end).text
                metadata["remainingItemCount"] = all.count - end
            }
            let items = page.map { type.isBuiltIn ? $0.filter { $0.key != "kind" && $0.key != "apiVersion" } : $0 }
            let body: [String: Any] = ["kind": type.kind + "List", "apiVersion": type.apiVersion, "metadata": metadata, "items": items]
            return .json(status: 200, body: json(body))
        }
    }

    /// [concepts] "Efficient detection of changes" and "Watch bookmarks".
    private static func watch(_ request: FakeAPIServer.Request, type: ResourceType, selector: FieldSelector, store: Store) -> FakeAPIServer.Reply {
        let path = request.path
        let requested = request.query["resourceVersion"] ?? ""
        let bookmarks = request.query["allowWatchBookmarks"] == "true" || request.query["allowWatchBookmarks"] == "1"
        // [list-options] timeoutSeconds: the server ends the watch (cleanly) after it.
        let timeout = Int(request.query["timeoutSeconds"] ?? "").map { Date().addingTimeInterval(Double($0)) }
        struct Cursor: @unchecked Sendable {
            var from: Int
            var pending: [String]
            var lastBookmark = Date()
            var dropGeneration: Int
            var goneSent = false
            var nextIndex: Int?
        }
        let setup: Cursor? = store.state.withLock { state in
            if requested.isEmpty || requested == "0" {
                // [concepts] resourceVersion unset or "0" on a watch: "Start at
                // most recent"/"Any": synthetic ADDED events for every object
                // that exists now, then the changes after it.
                let all = (state.objects[path] ?? [:]).keys.sorted().map { state.objects[path]![$0]! }.filter(selector.matches)
                return Cursor(from: state.version, pending: all.map { event("ADDED", $0) }, dropGeneration: state.dropGeneration)
            }
            guard let from = Int(requested) else { return nil }
            return Cursor(from: from, pending: [], dropGeneration: state.dropGeneration)
        }
        guard let start = setup else {
            return .json(status: 400, body: Fixtures.statusJSON(code: 400, reason: "BadRequest", message: "invalid resource version \"\(requested)\""))
        }
        let refusedAtOnce: FakeAPIServer.Reply? = store.state.withLock { state in
            guard start.from < state.oldestWatchable, state.goneForm == .httpStatus else { return nil }
            return .json(status: 410, body: Fixtures.statusJSON(code: 410, reason: "Expired",
                                                                message: "too old resource version: \(start.from) (\(state.oldestWatchable))"))
        }
        if let refusedAtOnce { return refusedAtOnce }
        let cursor = Mutex(start)
        return .events(pollMilliseconds: 5) {
            store.state.withLock { state in
                cursor.withLock { cursor -> FakeAPIServer.LiveStep in
                    if cursor.goneSent { return .end(.clean) }
                    if cursor.dropGeneration != state.dropGeneration { return .end(.cut) }
                    if state.stalled { return .send([]) }
                    if let timeout, Date() >= timeout { return .end(.clean) }
                    if cursor.from < state.oldestWatchable {
                        // The ERROR event carries a Status; the stream then ends.
                        cursor.goneSent = true
                        return .send([Fixtures.event("ERROR", Fixtures.statusJSON(
                            code: 410, reason: "Expired", message: "too old resource version: \(cursor.from) (\(state.oldestWatchable))"))])
                    }
                    var out = cursor.pending
                    cursor.pending = []
                    // Events of this collection, in version order, that the selector lets through.
                    // Events are appended in version order: start at the first one after `from`.
                    var index = cursor.nextIndex ?? Self.firstIndex(after: cursor.from, in: state.events)
                    while index < state.events.count {
                        let event = state.events[index]
                        if event.path == path, event.version > cursor.from, selector.matches(event.object) {
                            out.append(Self.event(event.type, event.object))
                        }
                        index += 1
                    }
                    cursor.nextIndex = index
                    if let last = state.events.last, last.version > cursor.from { cursor.from = last.version }
                    if !out.isEmpty { cursor.lastBookmark = Date() }
                    if bookmarks, Date().timeIntervalSince(cursor.lastBookmark) * 1000 >= Double(state.bookmarkMilliseconds) {
                        // [concepts] "Watch bookmarks": an object of the watched
                        // kind holding only metadata.resourceVersion: every
                        // change up to it has been sent.
                        cursor.from = max(cursor.from, state.version)
                        cursor.lastBookmark = Date()
                        out.append(Self.event("BOOKMARK", ["kind": type.kind, "apiVersion": type.apiVersion,
                                                          "metadata": ["resourceVersion": "\(cursor.from)"]]))
                    }
                    return .send(out)
                }
            }
        }
    }

    static func firstIndex(after version: Int, in events: [Event]) -> Int {
        var low = 0, high = events.count
        while low < high {
            let middle = (low + high) / 2
            if events[middle].version <= version { low = middle + 1 } else { high = middle }
        }
        return low
    }

    /// [concepts] "Efficient detection of changes": one JSON object per
    /// line, `{"type": ..., "object": ...}`; a watch event's object carries
    /// kind and apiVersion (it is encoded whole, unlike a list item).
    static func event(_ type: String, _ object: [String: Any]) -> String {
        json(["type": type, "object": object]) + "\n"
    }

    static func json(_ value: [String: Any]) -> String {
        String(decoding: (try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data(), as: UTF8.self)
    }

    static func key(of object: [String: Any]) -> String {
        let metadata = object["metadata"] as? [String: Any] ?? [:]
        let name = metadata["name"] as? String ?? ""
        return (metadata["namespace"] as? String).map { "\($0)/\(name)" } ?? name
    }
}

/// What a collection path serves.
struct ResourceType {
    var kind: String
    var apiVersion: String
    /// Built-in kinds are served typed: their list items carry no kind/apiVersion.
    var isBuiltIn: Bool

    init?(path: String) {
        if path == "/api/v1/pods" { (kind, apiVersion, isBuiltIn) = ("Pod", "v1", true) }
        else if path == "/api/v1/namespaces" { (kind, apiVersion, isBuiltIn) = ("Namespace", "v1", true) }
        else if path == "/apis/policy.linkerd.io/v1alpha1/networkauthenticationpolicies" {
            (kind, apiVersion, isBuiltIn) = ("NetworkAuthenticationPolicy", "policy.linkerd.io/v1alpha1", false)
        } else { return nil }
    }
}

/// [list-options] fieldSelector: `field=value`, `field==value`, `field!=value`,
/// comma-separated, all must hold. Pods support `spec.nodeName`,
/// `status.phase` and `metadata.*`; every kind `metadata.name` and `metadata.namespace`.
struct FieldSelector {
    struct Term { var path: [String]; var value: String; var equal: Bool }
    var terms: [Term] = []

    init(_ text: String, type: ResourceType) throws {
        for part in text.split(separator: ",") where !part.isEmpty {
            let (field, value, equal): (String, String, Bool)
            if let range = part.range(of: "!=") {
                (field, value, equal) = (String(part[..<range.lowerBound]), String(part[range.upperBound...]), false)
            } else if let range = part.range(of: "==") ?? part.range(of: "=") {
                (field, value, equal) = (String(part[..<range.lowerBound]), String(part[range.upperBound...]), true)
            } else { throw FixtureError("invalid selector: '\(text)'") }
            let allowed = ["metadata.name", "metadata.namespace"] + (type.kind == "Pod" ? ["spec.nodeName", "status.phase"] : [])
            guard allowed.contains(field) else {
                throw FixtureError("field label not supported: \(field)")
            }
            terms.append(Term(path: field.split(separator: ".").map(String.init), value: value, equal: equal))
        }
    }

    func matches(_ object: [String: Any]) -> Bool {
        terms.allSatisfy { term in
            var node: Any? = object
            for step in term.path { node = (node as? [String: Any])?[step] }
            let value = node as? String ?? ""
            return (value == term.value) == term.equal
        }
    }
}

struct FixtureError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// An opaque continue token (the real one is base64 JSON too).
struct ContinueToken {
    var version: Int
    var offset: Int

    init(version: Int, offset: Int) { self.version = version; self.offset = offset }

    init?(_ text: String) {
        guard let data = Data(base64Encoded: text), let body = String(data: data, encoding: .utf8) else { return nil }
        let parts = body.split(separator: "|").compactMap { Int($0) }
        guard parts.count == 2 else { return nil }
        (version, offset) = (parts[0], parts[1])
    }

    var text: String { Data("\(version)|\(offset)".utf8).base64EncodedString() }
}

/// What the API server fills in on a write ([conventions] "Metadata",
/// "Spec and Status"; the Pod and Namespace API references).
enum ServerDefaults {
    static func timestamp(_ date: Date) -> String {
        // [conventions] "Times": RFC 3339, UTC, seconds.
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        formatter.timeZone = TimeZone(identifier: "UTC")
        return formatter.string(from: date)
    }

    static func apply(to object: inout [String: Any], path: String, version: Int, previous: [String: Any]?) {
        var metadata = object["metadata"] as? [String: Any] ?? [:]
        let old = previous?["metadata"] as? [String: Any]
        // uid and creationTimestamp are set on create and never change.
        metadata["uid"] = old?["uid"] ?? metadata["uid"] ?? UUID().uuidString.lowercased()
        metadata["creationTimestamp"] = old?["creationTimestamp"] ?? metadata["creationTimestamp"] ?? timestamp(Date())
        metadata["resourceVersion"] = "\(version)"
        if metadata["managedFields"] == nil {
            metadata["managedFields"] = [["apiVersion": object["apiVersion"] ?? "v1", "fieldsType": "FieldsV1",
                                          "fieldsV1": ["f:metadata": [:] as [String: Any]], "manager": "kubectl-client-side-apply",
                                          "operation": "Update", "time": metadata["creationTimestamp"]!]]
        }
        switch path {
        case "/api/v1/namespaces":
            object["apiVersion"] = "v1"
            object["kind"] = "Namespace"
            // The NamespaceDefaultLabelName feature (GA in 1.22): every namespace carries its name as a label.
            var labels = metadata["labels"] as? [String: Any] ?? [:]
            labels["kubernetes.io/metadata.name"] = metadata["name"]
            metadata["labels"] = labels
            object["spec"] = object["spec"] ?? ["finalizers": ["kubernetes"]]
            object["status"] = object["status"] ?? ["phase": "Active"]
        case "/api/v1/pods":
            object["apiVersion"] = "v1"
            object["kind"] = "Pod"
            if metadata["namespace"] == nil { metadata["namespace"] = "default" }
            var spec = object["spec"] as? [String: Any] ?? [:]
            // Pod API reference: serviceAccountName defaults to "default"; the deprecated serviceAccount mirrors it.
            spec["serviceAccountName"] = spec["serviceAccountName"] ?? "default"
            spec["serviceAccount"] = spec["serviceAccountName"]
            spec["schedulerName"] = spec["schedulerName"] ?? "default-scheduler"
            spec["restartPolicy"] = spec["restartPolicy"] ?? "Always"
            spec["terminationGracePeriodSeconds"] = spec["terminationGracePeriodSeconds"] ?? 30
            object["spec"] = spec
            var status = object["status"] as? [String: Any] ?? [:]
            status["phase"] = status["phase"] ?? "Pending"
            // status.qosClass is set by the server on create from the containers' resources.
            status["qosClass"] = status["qosClass"] ?? qosClass(spec)
            object["status"] = status
        default:
            // A custom resource: metadata.generation starts at 1.
            metadata["generation"] = ((old?["generation"] as? Int) ?? 0) + 1
        }
        object["metadata"] = metadata
    }

    static func qosClass(_ spec: [String: Any]) -> String {
        let containers = spec["containers"] as? [[String: Any]] ?? []
        let resources = containers.map { $0["resources"] as? [String: Any] ?? [:] }
        if resources.allSatisfy({ ($0["requests"] as? [String: Any] ?? [:]).isEmpty && ($0["limits"] as? [String: Any] ?? [:]).isEmpty }) {
            return "BestEffort"
        }
        let guaranteed = resources.allSatisfy { resource in
            let limits = resource["limits"] as? [String: String] ?? [:]
            let requests = resource["requests"] as? [String: String] ?? limits
            return limits["cpu"] != nil && limits["memory"] != nil && limits == requests.merging(limits) { old, _ in old }
        }
        return guaranteed ? "Guaranteed" : "Burstable"
    }
}
