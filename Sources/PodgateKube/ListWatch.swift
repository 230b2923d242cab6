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
        _ = try? await DedicatedThread.run { [self] flag in
            loop(cancel: flag, onChange: onChange, onReport: onReport)
        }
    }

    /// The blocking loop; returns when `cancel` is set.
    public func loop(cancel: CancellationFlag, onChange: (ResourceChange) -> Void, onReport: (String) -> Void) {
        var random = SystemRandomNumberGenerator()
        var machine = ListWatchMachine(resource: resource.name, backoff: settings.backoff, seed: settings.seed ?? random.next())
        var pending = machine.handle(.start)
        // Every page, and the watches after, over one kept-alive connection.
        let connection = HTTPConnection()
        while !cancel.isCancelled, !pending.isEmpty {
            let action = pending.removeFirst()
            switch action {
            case let .emit(change):
                onChange(change)
            case let .report(message):
                onReport(message)
            case let .wait(milliseconds):
                guard cancel.sleep(milliseconds: milliseconds) else { return }
                pending += machine.handle(.backoffElapsed)
            case let .list(token):
                pending += machine.handle(list(continueToken: token, cancel: cancel, connection: connection))
            case let .watch(version):
                pending += watch(from: version, machine: &machine, cancel: cancel, connection: connection,
                                 onChange: onChange, onReport: onReport)
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
