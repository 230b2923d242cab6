import PodgateModel

/// Why a request did not give what was asked.
public enum RequestFailure: Sendable, Equatable, CustomStringConvertible {
    /// An HTTP status other than 200, with the Status message when there was one.
    case status(Int, message: String)
    /// Connection refused or reset, TLS failure, timeout, stall, stream cut.
    case transport(String)
    /// An answer that is not what the API server sends.
    case malformed(String)

    public var description: String {
        switch self {
        case let .status(code, message): return message.isEmpty ? "HTTP \(code)" : "HTTP \(code): \(message)"
        case let .transport(message): return message
        case let .malformed(message): return message
        }
    }

    var isGone: Bool { if case .status(410, _) = self { return true } else { return false } }
}

/// The list-then-watch protocol of one resource as a pure value: inputs (what
/// the server said) in, actions (what to do next) out. No I/O, no clock, no
/// global randomness, so every path is unit tested; `ListWatch` performs.
///
/// Invariants:
/// - a watch resumes only from a version the server gave since the last
///   list (list, event or bookmark), so it never goes back in time;
/// - after 410 Gone the version is forgotten and a fresh list (without a
///   resourceVersion: a consistent read) replaces the state;
/// - nothing but a complete list produces `synced`, so a failure never
///   empties what the consumer holds.
public struct ListWatchMachine: Sendable {
    public enum Input: Sendable, Equatable {
        case start
        case listed(ListPage)
        case listFailed(RequestFailure)
        case watchEvent(WatchEvent)
        /// The watch response ended: nil when the server closed it cleanly.
        case watchEnded(RequestFailure?)
        case backoffElapsed
    }

    public enum Action: Sendable, Equatable {
        /// GET the collection (a page of it when `continueToken` is set).
        case list(continueToken: String?)
        /// GET the collection with `watch=1&allowWatchBookmarks=true&resourceVersion=`.
        case watch(resourceVersion: String)
        /// Sleep, then feed `.backoffElapsed`.
        case wait(milliseconds: Int)
        case emit(ResourceChange)
        /// Something an operator should see in the log.
        case report(String)
    }

    enum Phase: Sendable, Equatable {
        case idle
        case listing(pages: [ObjectKey: DocumentValue])
        case watching(eventsSeen: Int)
        case waiting(thenWatch: Bool)
    }

    public let resource: String
    public let backoff: BackoffPolicy
    private(set) var phase: Phase = .idle
    /// The newest version the server gave; nil when a list is needed.
    public private(set) var resourceVersion: String?
    /// Failures since the last progress; sets the next backoff.
    public private(set) var attempt = 0
    /// 410s since the last watch event; a list alone is not progress, or a
    /// server answering every watch with 410 would get a tight list loop.
    private var goneWithoutProgress = 0
    private var random: SplitMix64

    public init(resource: String, backoff: BackoffPolicy = BackoffPolicy(), seed: UInt64) {
        self.resource = resource
        self.backoff = backoff
        random = SplitMix64(seed: seed)
    }

    public mutating func handle(_ input: Input) -> [Action] {
        switch (phase, input) {
        case (.idle, .start):
            return startList()

        case let (.listing(pages), .listed(page)):
            var objects = pages
            var actions: [Action] = []
            for item in page.items {
                guard let key = ObjectKey(object: item) else {
                    actions.append(.report("\(resource): skipped a listed object without metadata.name"))
                    continue
                }
                objects[key] = item
            }
            if let token = page.continueToken {
                phase = .listing(pages: objects)
                return actions + [.list(continueToken: token)]
            }
            resourceVersion = page.resourceVersion
            attempt = 0
            phase = .watching(eventsSeen: 0)
            return actions + [.emit(.synced(objects)), .watch(resourceVersion: page.resourceVersion)]

        case let (.listing, .listFailed(failure)):
            // Restart from the first page: an expired continue token answers 410,
            // and a partial list must never be delivered.
            return retry(thenWatch: false, reason: "list failed: \(failure)")

        case let (.watching(seen), .watchEvent(event)):
            return handle(event, eventsSeen: seen)

        case let (.watching(seen), .watchEnded(nil)):
            // The server ends every watch after its timeout: resume at once
            // if it delivered anything, else back off (a server that closes
            // immediately must not be hammered).
            guard seen > 0, let version = resourceVersion else {
                return retry(thenWatch: true, reason: "watch closed without events")
            }
            phase = .watching(eventsSeen: 0)
            return [.watch(resourceVersion: version)]

        case let (.watching, .watchEnded(failure?)):
            if failure.isGone { return relist(reason: "watch from \(resourceVersion ?? "?") expired (\(failure))") }
            return retry(thenWatch: true, reason: "watch failed: \(failure)")

        case let (.waiting(thenWatch), .backoffElapsed):
            if thenWatch, let version = resourceVersion {
                phase = .watching(eventsSeen: 0)
                return [.watch(resourceVersion: version)]
            }
            return startList()

        default:
            // Out-of-phase input (say, the end of a stream the driver stopped
            // on our order): the current phase already decided what is next.
            return []
        }
    }

    private mutating func handle(_ event: WatchEvent, eventsSeen seen: Int) -> [Action] {
        switch event {
        case let .added(object), let .modified(object), let .deleted(object):
            guard let key = ObjectKey(object: object) else {
                return [.report("\(resource): skipped a watch event for an object without metadata.name")]
            }
            progress(seen: seen, version: object.resourceVersion)
            if case .deleted = event { return [.emit(.delete(key))] }
            return [.emit(.upsert(key, object))]
        case let .bookmark(version):
            progress(seen: seen, version: version)
            return []
        case let .error(code, message):
            let failure = RequestFailure.status(code ?? 500, message: message)
            if failure.isGone { return relist(reason: "watch from \(resourceVersion ?? "?") expired (\(failure))") }
            return retry(thenWatch: true, reason: "watch error event: \(failure)")
        }
    }

    private mutating func progress(seen: Int, version: String?) {
        if let version { resourceVersion = version }
        attempt = 0
        goneWithoutProgress = 0
        phase = .watching(eventsSeen: seen + 1)
    }

    private mutating func startList() -> [Action] {
        phase = .listing(pages: [:])
        return [.list(continueToken: nil)]
    }

    /// 410 Gone: the version is too old; never resume from it. Relist at
    /// once the first time; repeated 410s without a watch event between
    /// them back off, growing with each one.
    private mutating func relist(reason: String) -> [Action] {
        resourceVersion = nil
        goneWithoutProgress += 1
        if goneWithoutProgress == 1 {
            return [.report("\(resource): \(reason); relisting")] + startList()
        }
        attempt = max(attempt, goneWithoutProgress - 1)
        return retry(thenWatch: false, reason: reason)
    }

    private mutating func retry(thenWatch: Bool, reason: String) -> [Action] {
        attempt += 1
        let delay = backoff.delay(attempt: attempt, unit: Double(random.next() >> 11) / Double(1 << 53))
        phase = .waiting(thenWatch: thenWatch && resourceVersion != nil)
        return [.report("\(resource): \(reason); retrying in \(delay) ms"), .wait(milliseconds: delay)]
    }
}
