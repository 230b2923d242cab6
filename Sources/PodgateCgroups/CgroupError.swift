#if canImport(Glibc)
import Glibc
#endif

/// A failed cgroup operation: what was tried, on which path, and why.
public struct CgroupError: Error, Hashable, Sendable, CustomStringConvertible {
    public var operation: String   // "mkdir", "rmdir", "stat", "write cgroup.procs", ...
    public var path: String
    public var errno: Int32        // 0 when the failure is not a system call's
    public var reason: String

    public init(operation: String, path: String, errno: Int32, reason: String? = nil) {
        self.operation = operation
        self.path = path
        self.errno = errno
        self.reason = reason ?? String(cString: strerror(errno))
    }

    public var description: String { "cgroup: \(operation) \(path): \(reason)" }
}
