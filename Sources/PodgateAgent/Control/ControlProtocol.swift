import FoundationEssentials
import PodgateModel

/// The agent's control socket speaks one JSON object per line. A client
/// sends one `ControlRequest`; for `status`, `names` and `explain` the agent
/// answers with one `ControlResponse` and closes; for `events` it streams
/// `EventStreamMessage` lines until the client goes away.
public struct ControlRequest: Codable, Sendable, Equatable {
    public enum Operation: String, Codable, Sendable { case status, names, explain, events }
    public var op: Operation
    public var explain: ExplainQuery?
    public var events: EventSubscriptionRequest?

    public init(op: Operation, explain: ExplainQuery? = nil, events: EventSubscriptionRequest? = nil) {
        self.op = op
        self.explain = explain
        self.events = events
    }
}

public struct ControlResponse: Codable, Sendable {
    public var error: String?
    public var status: StatusReport?
    public var names: NameTables?
    public var explain: Explanation?
    public init(error: String? = nil, status: StatusReport? = nil, names: NameTables? = nil, explain: Explanation? = nil) {
        self.error = error
        self.status = status
        self.names = names
        self.explain = explain
    }
}

public struct EventSubscriptionRequest: Codable, Sendable, Equatable {
    public var filter: EventFilter
    /// Replay events of the last `sinceSeconds` from the agent's history first.
    public var sinceSeconds: Double?
    /// Events kept for this subscriber before it starts skipping (default 4096).
    public var queueLimit: Int?
    public init(filter: EventFilter = EventFilter(), sinceSeconds: Double? = nil, queueLimit: Int? = nil) {
        self.filter = filter
        self.sinceSeconds = sinceSeconds
        self.queueLimit = queueLimit
    }
}

/// One line of an event stream: an event, or how many this subscriber
/// missed because it read too slowly, or the end of the history replay.
public struct EventStreamMessage: Codable, Sendable, Equatable {
    public var event: EventRecord?
    public var skipped: Int?
    public var replayed: Int?
    public init(event: EventRecord? = nil, skipped: Int? = nil, replayed: Int? = nil) {
        self.event = event
        self.skipped = skipped
        self.replayed = replayed
    }
}

/// The `events tail` filters; nil matches everything.
public struct EventFilter: Codable, Sendable, Equatable {
    public var namespace: String?
    public var pod: String?
    public var verdict: EventRecord.Verdict?
    public var `where`: EventRecord.Side?
    public var port: Int?

    public init(namespace: String? = nil, pod: String? = nil, verdict: EventRecord.Verdict? = nil, where: EventRecord.Side? = nil,
                port: Int? = nil) {
        self.namespace = namespace
        self.pod = pod
        self.verdict = verdict
        self.where = `where`
        self.port = port
    }

    /// `--namespace` and `--pod` match either end of the connection; a pod
    /// name without a namespace matches that name in any namespace.
    public func matches(_ record: EventRecord) -> Bool {
        if let verdict, record.verdict != verdict { return false }
        if let `where`, record.where != `where` { return false }
        if let port, record.dstPort != port { return false }
        let ends = [record.srcPod, record.dstPod].compactMap { $0 }
        if let namespace, !ends.contains(where: { $0.hasPrefix(namespace + "/") }) { return false }
        if let pod {
            let matchesPod = ends.contains { end in
                if pod.contains("/") { return end == pod }
                if let namespace { return end == "\(namespace)/\(pod)" }
                return end.split(separator: "/").last.map(String.init) == pod
            }
            if !matchesPod { return false }
        }
        return true
    }
}
