import CLibbpf
import PodgateModel
#if canImport(Glibc)
import Glibc
#endif

/// Every failure of the datapath adapter: what was tried, on which object
/// (map, program, path), the errno (or libbpf's own code) and its text.
public struct DatapathError: Error, Hashable, Sendable, CustomStringConvertible {
    public var operation: String        // "update", "load", "attach", "pin", "preflight", ...
    public var object: String           // "podgate_policy", "cgroup/connect4", "/sys/fs/bpf/podgate", ...
    public var errno: Int32             // positive; 0 when not a system error
    public var detail: String           // libbpf_strerror text, or one explanatory sentence
    public var mapOperation: MapOperation?

    public init(operation: String, object: String, errno: Int32, detail: String? = nil, mapOperation: MapOperation? = nil) {
        self.operation = operation
        self.object = object
        self.errno = errno
        self.detail = detail ?? DatapathError.text(errno)
        self.mapOperation = mapOperation
    }

    public var description: String {
        var text = "\(operation) \(object): \(detail)"
        if let mapOperation { text += " (while applying \(mapOperation))" }
        return text
    }

    /// libbpf's text for an errno or one of its own codes (4000+).
    static func text(_ code: Int32) -> String {
        guard code != 0 else { return "failed" }
        var buffer = [CChar](repeating: 0, count: 256)
        guard libbpf_strerror(code, &buffer, buffer.count) == 0 else { return "error \(code)" }
        return String(decoding: buffer.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// libbpf 1.x returns -errno from int-returning calls.
    static func check(_ result: Int32, _ operation: String, _ object: String) throws {
        if result < 0 { throw DatapathError(operation: operation, object: object, errno: -result) }
    }

    /// For calls that return NULL and set errno.
    static func fromErrno(_ operation: String, _ object: String) -> DatapathError {
        DatapathError(operation: operation, object: object, errno: Glibc.errno)
    }
}
