#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// Wakes the reconciler when files in the watched directories change, and
/// once per `resyncInterval` anyway (a periodic full resync repairs drift and
/// catches what inotify cannot see, such as a cgroup created before the
/// directory above it was watched). Blocking `poll` runs on its own thread,
/// never on the cooperative pool.
public final class DirectoryWatcher: @unchecked Sendable {
    // @unchecked: `descriptor` and `watches` are written before the thread
    // starts and only read by it afterwards; `stopped` is guarded by `lock`.
    private let descriptor: Int32
    private var watches: [Int32: String] = [:]
    private let lock = NSLock()
    private var stopped = false
    private let resyncInterval: Int32

    public let changes: AsyncStream<Void>
    private let continuation: AsyncStream<Void>.Continuation

    public init(directories: [String], resyncMilliseconds: Int32 = 1000) throws {
        descriptor = inotify_init1(Int32(IN_NONBLOCK | IN_CLOEXEC))
        guard descriptor >= 0 else { throw AgentError.system("inotify_init1", errno: errno, path: nil) }
        resyncInterval = resyncMilliseconds
        // Newest only: a burst of file events becomes one reconcile.
        (changes, continuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        // A file is read when its writer has finished (close or rename), so
        // IN_MODIFY (every write of a half-written file) does not wake the reader.
        let mask = UInt32(IN_CREATE | IN_DELETE | IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_ATTRIB | IN_DELETE_SELF)
        for directory in directories {
            let watch = inotify_add_watch(descriptor, directory, mask)
            guard watch >= 0 else {
                let code = errno
                close(descriptor)
                throw AgentError.system("watching the directory", errno: code, path: directory)
            }
            watches[watch] = directory
        }
        let thread = Thread { [self] in self.loop() }
        thread.name = "podgate-dirwatch"
        thread.start()
    }

    public func stop() {
        lock.withLock { stopped = true }
    }

    private var isStopped: Bool { lock.withLock { stopped } }

    private func loop() {
        var buffer = [UInt8](repeating: 0, count: 8192)
        var pollEntry = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        while !isStopped {
            let ready = poll(&pollEntry, 1, resyncInterval)
            if ready > 0 {
                // Drain: the content does not matter, only that something changed.
                while read(descriptor, &buffer, buffer.count) > 0 {}
            }
            continuation.yield(())
        }
        continuation.finish()
        close(descriptor)
    }
}
