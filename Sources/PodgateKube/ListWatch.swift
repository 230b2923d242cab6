import PodgateModel

/// Performs a `ListWatchMachine`'s actions: the thin, I/O-doing shell around
/// the pure protocol. One dedicated thread per resource runs the blocking
/// transfers; changes are delivered in order through `onChange` on that thread.
public final class ListWatch: Sendable {
    public struct Settings: Sendable, Equatable {
        public var pageSize: Int
        public var backoff: BackoffPolicy
        /// Asked of the server, which then ends the watch cleanly; randomized
        /// per watch (like client-go) so agents spread their reconnects.
        public var watchTimeoutSeconds: ClosedRange<Int>
        /// nil: seeded from the system generator.
        public var seed: UInt64?

        /// Items asked per page (`limit`). The server may answer fewer and says
        /// so with a continue token (API concepts, "Retrieving large results
        /// sets in chunks"); over a kept-alive connection a page costs its
        /// bytes, not a handshake, so 1000 rather than client-go's 500 halves
        /// the round trips while one page's JSON (about 3 MB at 3 KB a pod)
        /// stays small next to the cache.
        public init(pageSize: Int = 1000, backoff: BackoffPolicy = BackoffPolicy(),
                    watchTimeoutSeconds: ClosedRange<Int> = 300...600, seed: UInt64? = nil) {
            self.pageSize = pageSize
            self.backoff = backoff
            self.watchTimeoutSeconds = watchTimeoutSeconds
            self.seed = seed
        }
    }

    public let client: HTTPClient
    public let resource: KubeResource
    public let settings: Settings

    public init(client: HTTPClient, resource: KubeResource, settings: Settings = Settings()) {
        self.client = client
        self.resource = resource
        self.settings = settings
    }

    /// Lists and watches until the task is cancelled. `onChange` and
    /// `onReport` run on the resource's thread, in order.
    public func run(onChange: @escaping @Sendable (ResourceChange) -> Void,
                    onReport: @escaping @Sendable (String) -> Void) async {
        await run(decode: { $0 }, onChange: { onChange($0.resourceChange) }, onReport: onReport)
    }

    /// Lists and watches until the task is cancelled, handing each object as
    /// `decode` makes it: while a list is read page by page, only the decoded
    /// values are held (a 150k-pod list as JSON trees is gigabytes).
    public func run<Value: Sendable>(decode: @escaping @Sendable (DocumentValue) -> Value,
                                     onChange: @escaping @Sendable (DecodedChange<Value>) -> Void,
                                     onReport: @escaping @Sendable (String) -> Void) async {
        _ = try? await DedicatedThread.run { [self] flag in
            loop(cancel: flag, decode: decode, onChange: onChange, onReport: onReport)
        }
    }

    /// The blocking loop; returns when `cancel` is set.
    public func loop(cancel: CancellationFlag, onChange: (ResourceChange) -> Void, onReport: (String) -> Void) {
        loop(cancel: cancel, decode: { $0 }, onChange: { onChange($0.resourceChange) }, onReport: onReport)
    }

    /// The blocking loop; returns when `cancel` is set. The machine is given
    /// each listed object as a stub of its key; the decoded values of the
    /// list being read wait in `listed` until it is complete.
    public func loop<Value: Sendable>(cancel: CancellationFlag, decode: (DocumentValue) -> Value,
                            onChange: (DecodedChange<Value>) -> Void, onReport: (String) -> Void) {
        var random = SystemRandomNumberGenerator()
        var machine = ListWatchMachine(resource: resource.name, backoff: settings.backoff, seed: settings.seed ?? random.next())
        var pending = machine.handle(.start)
        // Every page, and the watches after, over one kept-alive connection.
        let connection = HTTPConnection()
        var listed: [ObjectKey: Value] = [:]
        func deliver(_ change: ResourceChange) {
            switch change {
            case let .synced(stubs):
                var all: [ObjectKey: Value] = [:]
                all.reserveCapacity(stubs.count)
                for key in stubs.keys { all[key] = listed[key] }
                listed = [:]
                onChange(.synced(all))
            case let .upsert(key, object): onChange(.upsert(key, decode(object)))
            case let .delete(key): onChange(.delete(key))
            }
        }
        while !cancel.isCancelled, !pending.isEmpty {
            let action = pending.removeFirst()
            switch action {
            case let .emit(change):
                deliver(change)
            case let .report(message):
                onReport(message)
            case let .wait(milliseconds):
                guard cancel.sleep(milliseconds: milliseconds) else { return }
                pending += machine.handle(.backoffElapsed)
            case let .list(token):
                // A list from its first page replaces whatever an earlier attempt read.
                if token == nil { listed = [:] }
                var input = list(continueToken: token, cancel: cancel, connection: connection)
                if case var .listed(page) = input {
                    page.items = page.items.map { item in
                        guard let key = ObjectKey(object: item) else { return item }   // the machine reports it
                        listed[key] = decode(item)
                        return key.stub
                    }
                    input = .listed(page)
                }
                pending += machine.handle(input)
            case let .watch(version):
                pending += watch(from: version, machine: &machine, cancel: cancel, connection: connection,
                                 onChange: deliver, onReport: onReport)
            }
        }
    }

    private func list(continueToken: String?, cancel: CancellationFlag, connection: HTTPConnection) -> ListWatchMachine.Input {
        do {
            let response = try client.getBlocking(resource.listQuery(limit: settings.pageSize, continueToken: continueToken),
                                                  cancel: cancel, connection: connection)
            guard response.status == 200 else { return .listFailed(Self.failure(response)) }
            do {
                var page = try ListPage.decode(body: response.body)
                page.items = page.items.map(resource.trimmed)
                return .listed(page)
            } catch {
                return .listFailed(.malformed("\(resource.name): \(error)"))
            }
        } catch {
            return .listFailed(.transport("\(error)"))
        }
    }

    /// Streams one watch, feeding each complete event to the machine as it
    /// arrives. When the machine orders another request mid-stream (410 in an
    /// ERROR event), the stream is stopped and those actions are returned.
    private func watch(from version: String, machine: inout ListWatchMachine, cancel: CancellationFlag, connection: HTTPConnection,
                       onChange: (ResourceChange) -> Void, onReport: (String) -> Void) -> [ListWatchMachine.Action] {
        var lines = LineSplitter()
        var next: [ListWatchMachine.Action] = []
        var broken: RequestFailure?
        let timeout = Int.random(in: settings.watchTimeoutSeconds)
        let query = resource.watchQuery(resourceVersion: version, timeoutSeconds: timeout)
        // The callback runs synchronously inside streamBlocking, on this thread.
        let outcome = Result {
            try client.streamBlocking(query, cancel: cancel, connection: connection) { bytes in
                let complete: [[UInt8]]
                do { complete = try lines.append(bytes) } catch {
                    broken = .malformed("\(error)")
                    return false
                }
                for line in complete {
                    let event: WatchEvent
                    do { event = try WatchEvent.decode(line: line) } catch {
                        broken = .malformed("\(error)")
                        return false
                    }
                    for action in machine.handle(.watchEvent(event.trimmed(by: resource))) {
                        switch action {
                        case let .emit(change): onChange(change)
                        case let .report(message): onReport(message)
                        default: next.append(action)
                        }
                    }
                    if !next.isEmpty { return false }
                }
                return true
            }
        }
        if !next.isEmpty { return next }
        if lines.partialByteCount > 0 {
            onReport("\(resource.name): discarded \(lines.partialByteCount) bytes of an event cut by the end of the stream")
        }
        switch outcome {
        case let .success(response) where response.status == 200:
            return machine.handle(.watchEnded(broken))
        case let .success(response):
            return machine.handle(.watchEnded(Self.failure(response)))
        case let .failure(error):
            return machine.handle(.watchEnded(broken ?? .transport("\(error)")))
        }
    }

    /// A non-200 answer, with the message of its `Status` body when it has one.
    static func failure(_ response: HTTPResponse) -> RequestFailure {
        let message = (try? JSONDocument.parse(response.body))?["message"]?.string ?? ""
        return .status(response.status, message: message)
    }
}

/// A change of a resource with its objects as the consumer decoded them.
public enum DecodedChange<Value: Sendable>: Sendable {
    /// A complete, fresh list: replaces everything known of the resource.
    case synced([ObjectKey: Value])
    case upsert(ObjectKey, Value)
    case delete(ObjectKey)
}

extension DecodedChange where Value == DocumentValue {
    var resourceChange: ResourceChange {
        switch self {
        case let .synced(objects): .synced(objects)
        case let .upsert(key, object): .upsert(key, object)
        case let .delete(key): .delete(key)
        }
    }
}

extension ObjectKey {
    /// An object reduced to its key: what the list machine holds of a
    /// listed object while the pages are read.
    var stub: DocumentValue {
        var metadata: [(key: String, value: DocumentValue)] = [("name", .scalar(name, plain: false)), ("uid", .scalar(uid, plain: false))]
        if let namespace { metadata.append(("namespace", .scalar(namespace, plain: false))) }
        return .map([("metadata", .map(metadata))])
    }
}
