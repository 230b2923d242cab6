#if canImport(Glibc)
import Glibc
#endif

/// A failure of the lab itself (not of what it measures): what it did and why.
public struct LabError: Error, CustomStringConvertible, Sendable {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

public func errnoText(_ code: Int32 = errno) -> String { String(cString: strerror(code)) }

/// The monotonic clock, as seconds (waits, deadlines) or nanoseconds (measurements).
public enum Monotonic {
    public static var nanoseconds: UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }

    public static var seconds: Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }
}
