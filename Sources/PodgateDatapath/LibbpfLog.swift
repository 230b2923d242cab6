import CLibbpf
import Synchronization

/// Where libbpf's messages go. libbpf prints through one process-wide hook
/// (libbpf_set_print takes a bare C function), so the Swift handler it
/// forwards to is necessarily process-wide too: it is the adapter's only
/// shared state, behind a Mutex.
public typealias DatapathLogger = @Sendable (_ message: String) -> Void

enum LibbpfLog {
    private static let handler = Mutex<DatapathLogger?>(nil)

    /// Sends every libbpf message (all at debug level: verifier logs,
    /// probes, pin reuse) to `logger`; nil silences libbpf.
    static func install(_ logger: DatapathLogger?) {
        handler.withLock { $0 = logger }
        _ = libbpf_set_print(forward)
    }

    private static let forward: libbpf_print_fn_t = {
        _, format, arguments in
        guard let format, let arguments, let logger = LibbpfLog.handler.withLock({ $0 }) else { return 0 }
        var buffer = [CChar](repeating: 0, count: 2048)
        let count = podgate_vformat(&buffer, buffer.count, format, arguments)
        guard count > 0 else { return 0 }
        var message = String(decoding: buffer.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
        while message.last == "\n" { message.removeLast() }
        logger("libbpf: " + message)
        return count
    }
}
