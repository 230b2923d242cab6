#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import PodgateModel
import PodgateLog
import Synchronization

/// Where enriched events go: the agent's log (a readable line) and, when
/// configured, a JSON-lines file opened with O_APPEND so concurrent readers
/// always see whole lines.
final class EventSink: @unchecked Sendable {
    // @unchecked: `budget` and `encoder` are touched only under `serial`
    // (the event thread and the reconcile loop's revocations both emit);
    // `fd` is immutable.
    private let fd: Int32
    private let log = Logger("events")
    private var budget = LogBudget(perSecond: 20)
    private let encoder = EventRecord.jsonEncoder()
    private let serial = Mutex(())

    init(path: String?, node: String) throws {
        if let path {
            fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
            guard fd >= 0 else { throw AgentError.system("opening the events file", errno: errno, path: path) }
        } else {
            fd = -1
        }
    }

    deinit { if fd >= 0 { close(fd) } }

    func emit(_ record: EventRecord) {
        serial.withLock { _ in emitLocked(record) }
    }

    private func emitLocked(_ record: EventRecord) {
        if fd >= 0 { Output.write(fd, record.jsonLine(using: encoder) + "\n") }
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        let (shouldLog, leftOut) = budget.admit(atSecond: Int64(now.tv_sec))
        if let leftOut { log.info("\(leftOut) more events in the last second were not logged (see podgate events tail)") }
        if shouldLog { log.info(record.summary) }
    }
}
