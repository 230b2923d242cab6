import CPodgateSys
import Foundation


/// Swaps two paths in one step (renameat2 RENAME_EXCHANGE), as an editor or
/// a deploy tool can: a reader never sees either name missing.
public enum PathExchange {
    public static func swap(_ a: String, _ b: String) throws {
        guard podgate_sys_exchange_paths(a, b) == 0 else {
            throw CommandError(message: "renameat2(\(a), \(b), RENAME_EXCHANGE): \(String(cString: strerror(errno)))")
        }
    }
}
