#if canImport(Glibc)
import Glibc
#endif

/// Writes to file descriptors 1 and 2 directly: the C globals `stdout` and
/// `stderr` are not usable in Swift 6 mode, and unbuffered writes keep lines
/// from concurrent threads whole.
public enum Output {
    public static func out(_ text: String) { write(1, text + "\n") }
    public static func err(_ text: String) { write(2, text + "\n") }

    public static func write(_ fd: Int32, _ text: String) {
        var bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeMutableBytes { Glibc.write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if written < 0 { if errno == EINTR { continue } else { return } }
            offset += written
        }
    }
}
