import CLibbpf
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// libbpf's three print levels.
public enum DatapathLogLevel: Int, Sendable, Comparable {
    case debug, info, warning
    public static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }
}

/// Where libbpf's messages go. libbpf prints through one process-wide hook
/// (libbpf_set_print takes a bare C function), so the Swift handler it
/// forwards to is necessarily process-wide too: it is the adapter's only
/// shared state, behind a Mutex.
public typealias DatapathLogger = @Sendable (_ level: DatapathLogLevel, _ message: String) -> Void

enum LibbpfLog {
    /// Without a logger, libbpf's warnings still go to standard error: a
    /// warning is never dropped.
    static let standardError: DatapathLogger = { level, message in
        guard level >= .warning else { return }
        let line = "libbpf: " + message + "\n"
        _ = line.withCString { write(2, $0, strlen($0)) }
    }

    private static let handler = Mutex<DatapathLogger>(standardError)

    /// Sends every libbpf message, with its level, to `logger` (standard
    /// error, warnings only, when nil). The logger filters by level.
    static func install(_ logger: DatapathLogger?) {
        handler.withLock { $0 = logger ?? standardError }
        _ = libbpf_set_print(forward)
    }

    /// Routes libbpf through the current handler (standard error until a
    /// logger is installed), leaving an installed logger in place.
    static func ensureRouted() {
        _ = libbpf_set_print(forward)
    }

    /// The level of libbpf's print callback.
    static func level(_ level: libbpf_print_level) -> DatapathLogLevel {
        switch level {
        case LIBBPF_WARN: .warning
        case LIBBPF_INFO: .info
        default: .debug
        }
    }

    static func send(_ level: DatapathLogLevel, _ message: String) {
        let logger = handler.withLock { $0 }
        logger(level, message)
    }

    private static let forward: libbpf_print_fn_t = {
        level, format, arguments in
        guard let format, let arguments else { return 0 }
        var buffer = [CChar](repeating: 0, count: 4096)
        let count = podgate_vformat(&buffer, buffer.count, format, arguments)
        guard count > 0 else { return 0 }
        var message = String(decoding: buffer.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
        while message.last == "\n" { message.removeLast() }
        if message.hasPrefix("libbpf: ") { message.removeFirst(8) }  // the logger names its component
        LibbpfLog.send(LibbpfLog.level(level), message)
        return count
    }
}
