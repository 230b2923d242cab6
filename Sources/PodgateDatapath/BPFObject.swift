import CLibbpf
#if canImport(Glibc)
import Glibc
#endif

/// A libbpf object opened from memory, with a buffer that receives the
/// kernel's verifier log when a program is refused, so the error says why.
/// libbpf reads the ELF in place until `load` returns: keep the bytes alive
/// until then, and `close()` the object.
struct BPFObject {
    static let logSize = 1 << 20  // the kernel keeps the END of a longer log
    static let tailLines = 10

    let pointer: OpaquePointer
    let name: String
    private let log: UnsafeMutablePointer<CChar>

    init(bytes: UnsafeRawBufferPointer, name: String) throws {
        let log = UnsafeMutablePointer<CChar>.allocate(capacity: Self.logSize)
        log.initialize(repeating: 0, count: Self.logSize)
        // Options built in C (shim.h). Log level 0: a log only for a failed load.
        guard let object = podgate_object_open_mem(bytes.baseAddress, bytes.count, name, log, Self.logSize, 0) else {
            let code = errno
            log.deallocate()
            throw DatapathError(operation: "open", object: name + ".bpf.o", errno: code)
        }
        (pointer, self.name, self.log) = (object, name, log)
    }

    func close() {
        bpf_object__close(pointer)
        log.deallocate()
    }

    /// Loads every program. A refused program throws with the last lines of
    /// the verifier log; the whole log goes to the libbpf logger at debug.
    func load() throws {
        let loaded = bpf_object__load(pointer)
        guard loaded < 0 else { return }
        let kernelLog = String(cString: log)
        var detail = "the kernel refused a program, or a pinned map does not match it: " + DatapathError.text(-loaded)
        let lines = Self.tail(of: kernelLog)
        if lines.isEmpty {
            detail += " (libbpf's warnings, in the log, name the program or map)"
        } else {
            LibbpfLog.send(.debug, "\(name).bpf.o: kernel log of the refused load:\n" + kernelLog)
            if -loaded == ENOSPC && kernelLog.utf8.count >= Self.logSize - 1 {
                detail += " (the verifier log outgrew \(Self.logSize) bytes; this is its end)"
            }
            detail += "; verifier log, last lines:\n    " + lines.joined(separator: "\n    ")
        }
        throw DatapathError(operation: "load", object: name + ".bpf.o", errno: -loaded, detail: detail)
    }

    /// The last non-empty lines of a kernel log.
    static func tail(of log: String, lines count: Int = tailLines) -> [String] {
        Array(log.split(separator: "\n", omittingEmptySubsequences: true)
            .map { String($0) }.filter { !$0.allSatisfy(\.isWhitespace) }.suffix(count))
    }
}
