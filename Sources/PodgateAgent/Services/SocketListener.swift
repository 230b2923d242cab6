#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// One listening socket and the thread that accepts on it: the skeleton
/// of the control socket and of the health endpoint. The socket is bound
/// by the caller (so errors and the bound address come before `run`);
/// `run` accepts until its task is cancelled.
final class SocketListener: Sendable {
    private let descriptor: Int32
    private let threadName: String
    private let stopped = Atomic<Bool>(false)
    /// After the socket is closed (the control socket removes its file).
    private let onClose: @Sendable () -> Void

    init(descriptor: Int32, threadName: String, onClose: @escaping @Sendable () -> Void = {}) {
        self.descriptor = descriptor
        self.threadName = threadName
        self.onClose = onClose
    }

    var isStopped: Bool { stopped.load(ordering: .acquiring) }

    /// Hands each connection to `serve` on the accepting thread; `serve` owns
    /// the descriptor (closes it). `failed` hears of an accept that failed
    /// other than by `stop`, errno given (then the listener ends).
    func run(serve: @escaping @Sendable (Int32) -> Void, failed: @escaping @Sendable (Int32) -> Void = { _ in }) async {
        await DedicatedThread.run(threadName, stop: { [self] in stop() }) { [self] in
            while !isStopped {
                guard let fd = SocketIO.acceptConnection(descriptor) else {
                    let code = errno
                    if !isStopped { failed(code) }
                    return
                }
                serve(fd)
            }
        }
        stop()
    }

    /// Closes the socket (an accept in progress returns); later calls do nothing.
    func stop() {
        guard !stopped.exchange(true, ordering: .acquiringAndReleasing) else { return }
        shutdown(descriptor, Int32(SHUT_RDWR))
        close(descriptor)
        onClose()
    }
}
