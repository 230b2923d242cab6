#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// A leveled logger with one line per message: `time level [component] message`.
public struct Logger: Sendable {
    public enum Level: Int, Sendable, Comparable {
        case debug, info, warning, error
        public static func < (a: Level, b: Level) -> Bool { a.rawValue < b.rawValue }
        var label: String { ["debug", "info", "warn", "error"][rawValue] }
        /// `--log-level` values.
        public init?(name: String) {
            switch name {
            case "debug": self = .debug
            case "info": self = .info
            case "warning", "warn": self = .warning
            case "error": self = .error
            default: return nil
            }
        }
    }

    public var component: String
    /// nil: the process-wide level (`--log-level`), read at each message.
    public var minimum: Level?

    /// The process-wide minimum of loggers that set none (`--log-level`).
    public static var processMinimum: Level {
        get { Level(rawValue: threshold.load(ordering: .relaxed)) ?? .info }
        set { threshold.store(newValue.rawValue, ordering: .relaxed) }
    }
    private static let threshold = Atomic<Int>(Level.info.rawValue)

    public init(_ component: String, minimum: Level? = nil) {
        self.component = component
        self.minimum = minimum
    }

    public func log(_ level: Level, _ message: String) {
        guard level >= (minimum ?? Self.processMinimum) else { return }
        Output.err("\(Self.timestamp()) \(level.label) [\(component)] \(message)")
    }

    public func debug(_ message: String) { log(.debug, message) }
    public func info(_ message: String) { log(.info, message) }
    public func warning(_ message: String) { log(.warning, message) }
    public func error(_ message: String) { log(.error, message) }

    /// RFC 3339 UTC with milliseconds.
    public static func timestamp(unixNanoseconds: UInt64? = nil) -> String {
        var now = timespec()
        if let unixNanoseconds {
            now.tv_sec = Int(unixNanoseconds / 1_000_000_000)
            now.tv_nsec = Int(unixNanoseconds % 1_000_000_000)
        } else {
            clock_gettime(CLOCK_REALTIME, &now)
        }
        var seconds = now.tv_sec
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func pad(_ value: Int32, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        return "\(pad(parts.tm_year + 1900, 4))-\(pad(parts.tm_mon + 1, 2))-\(pad(parts.tm_mday, 2))T"
            + "\(pad(parts.tm_hour, 2)):\(pad(parts.tm_min, 2)):\(pad(parts.tm_sec, 2)).\(pad(Int32(now.tv_nsec / 1_000_000), 3))Z"
    }
}
