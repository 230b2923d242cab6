import Foundation
import PodgateModel
import Synchronization

/// Fans enriched events out to every `events tail` subscriber and keeps a
/// bounded history for `--since`. `publish` runs on the ring buffer thread:
/// it only appends under short locks and never waits for a subscriber, so a
/// slow reader costs itself events (counted and reported), never the agent.
public final class EventHub: Sendable {
    struct Stamped: Sendable {
        var monotonicSeconds: Double
        var record: EventRecord
    }
    struct State: Sendable {
        var subscribers: [ObjectIdentifier: EventSubscription] = [:]
        var history: [Stamped] = []
        var historyStart = 0   // ring buffer head once `history` is full
    }

    public let historyLimit: Int
    private let state = Mutex(State())
    private let emittedCount = Atomic<Int>(0)
    private let skippedCount = Atomic<Int>(0)

    public init(historyLimit: Int = 4096) {
        self.historyLimit = historyLimit
    }

    public var emitted: Int { emittedCount.load(ordering: .relaxed) }
    /// Events subscribers missed (all subscribers together).
    public var skipped: Int { skippedCount.load(ordering: .relaxed) }
    public var subscriberCount: Int { state.withLock { $0.subscribers.count } }

    public func publish(_ record: EventRecord) {
        emittedCount.add(1, ordering: .relaxed)
        let stamped = Stamped(monotonicSeconds: Self.now(), record: record)
        let subscribers = state.withLock { state -> [EventSubscription] in
            if state.history.count < historyLimit {
                state.history.append(stamped)
            } else {
                state.history[state.historyStart] = stamped
                state.historyStart = (state.historyStart + 1) % historyLimit
            }
            return Array(state.subscribers.values)
        }
        for subscriber in subscribers where !subscriber.offer(record) {
            skippedCount.add(1, ordering: .relaxed)
        }
    }

    /// Registers a subscriber, first queueing the history of the last
    /// `sinceSeconds` that matches its filter (atomically: nothing is
    /// missed or doubled between the replay and the live stream).
    public func subscribe(filter: EventFilter, sinceSeconds: Double?, queueLimit: Int) -> (EventSubscription, replayed: Int) {
        let oldest = sinceSeconds.map { Self.now() - $0 }
        return state.withLock { state in
            var replay: [EventRecord] = []
            if let oldest {
                let ordered = state.history[state.historyStart...] + state.history[..<state.historyStart]
                replay = ordered.filter { $0.monotonicSeconds >= oldest && filter.matches($0.record) }.map(\.record)
            }
            let subscription = EventSubscription(filter: filter, limit: max(queueLimit, 1), initial: replay)
            state.subscribers[ObjectIdentifier(subscription)] = subscription
            return (subscription, replay.count)
        }
    }

    public func unsubscribe(_ subscription: EventSubscription) {
        _ = state.withLock { $0.subscribers.removeValue(forKey: ObjectIdentifier(subscription)) }
    }

    static func now() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
    }
}

/// One subscriber's bounded queue. When full, new events are skipped and
/// counted; the reader hears the count before the next event it gets.
public final class EventSubscription: @unchecked Sendable {
    // @unchecked: every field below is guarded by `condition`.
    public enum Item: Equatable, Sendable {
        case event(EventRecord)
        case skipped(Int)
    }

    let filter: EventFilter
    let limit: Int
    private let condition = NSCondition()
    private var queue: [EventRecord]
    private var head = 0
    private var pendingSkipped = 0
    /// Where in `queue` the gap is: the skipped events came after everything before it.
    private var gapAt = 0

    init(filter: EventFilter, limit: Int, initial: [EventRecord]) {
        self.filter = filter
        self.limit = max(limit, initial.count)
        queue = initial
    }

    /// Non-blocking. Returns false when the event matched but was skipped.
    func offer(_ record: EventRecord) -> Bool {
        guard filter.matches(record) else { return true }
        condition.lock()
        defer { condition.unlock() }
        guard queue.count - head < limit else {
            if pendingSkipped == 0 { gapAt = queue.count }
            pendingSkipped += 1
            condition.signal()
            return false
        }
        queue.append(record)
        condition.signal()
        return true
    }

    /// The next item, waiting at most `timeout` seconds; nil on timeout.
    public func next(timeout: Double) -> Item? {
        condition.lock()
        defer { condition.unlock() }
        let deadline = Date(timeIntervalSinceNow: timeout)
        while head == queue.count && pendingSkipped == 0 {
            if !condition.wait(until: deadline) { return nil }
        }
        // Report the gap where it happened: after the events queued before it.
        if pendingSkipped > 0 && head == gapAt {
            defer { pendingSkipped = 0 }
            return .skipped(pendingSkipped)
        }
        let record = queue[head]
        head += 1
        if head > 1024 && head * 2 > queue.count {
            queue.removeFirst(head)
            gapAt -= head
            head = 0
        }
        return .event(record)
    }
}
