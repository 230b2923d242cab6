import Foundation

// Glibc's module hides this GNU function (no _GNU_SOURCE); its ABI is plain.
@_silgen_name("renameat2")
private func c_renameat2(_ oldDirectory: Int32, _ old: UnsafePointer<CChar>, _ newDirectory: Int32, _ new: UnsafePointer<CChar>,
                         _ flags: UInt32) -> Int32

/// Swaps two paths in one step (renameat2 RENAME_EXCHANGE), as an editor or
/// a deploy tool can: a reader never sees either name missing.
public enum PathExchange {
    public static func swap(_ a: String, _ b: String) throws {
        let atCurrentDirectory: Int32 = -100, exchange: UInt32 = 2  // AT_FDCWD, RENAME_EXCHANGE
        guard c_renameat2(atCurrentDirectory, a, atCurrentDirectory, b, exchange) == 0 else {
            throw CommandError(message: "renameat2(\(a), \(b), RENAME_EXCHANGE): \(String(cString: strerror(errno)))")
        }
    }
}
