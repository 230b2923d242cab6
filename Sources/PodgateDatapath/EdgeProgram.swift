import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A duplicate of the loaded podgate_edge program's fd and the interfaces it
/// was last attached to: the bpf object is closed after a load, and
/// `DatapathLoader.resyncAutoEdges` attaches the same program to interfaces
/// that appear later.
final class EdgeProgram: Sendable {
    private struct State { var fd: Int32 = -1; var interfaces: [String] = [] }
    private let state = Mutex(State())

    func keep(_ fd: Int32, interfaces: [String]) {
        let copy = fcntl(fd, F_DUPFD_CLOEXEC, 0)
        state.withLock { state in
            if state.fd >= 0 { close(state.fd) }
            state.fd = copy
            state.interfaces = interfaces
        }
    }

    /// Runs `body` with the fd (-1: none yet) and the interfaces it is on;
    /// a non-nil result becomes the new interface list. Returns whether it changed.
    func withProgram(_ body: (Int32, [String]) throws -> [String]?) rethrows -> Bool {
        try state.withLock { state in
            guard let updated = try body(state.fd, state.interfaces) else { return false }
            state.interfaces = updated
            return true
        }
    }

    deinit { state.withLock { if $0.fd >= 0 { close($0.fd) } } }
}
