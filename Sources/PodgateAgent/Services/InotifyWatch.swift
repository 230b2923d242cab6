#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// Calls `onChange` when entries appear or go in the watched directories
/// (inotify), and once per `resyncMilliseconds` anyway: the periodic full
/// resync repairs what inotify cannot see. Directories missing at the start
/// are watched from the moment they appear (each wake-up adds the missing
/// watches; adding one twice returns the same watch, and a directory
/// recreated gets a new one). The blocking `poll` runs on its own thread.
final class InotifyWatch: Sendable {
    struct Configuration: Sendable {
        /// The thread's name.
        var name: String
        var directories: [String]
        /// How many of the first `directories` must be watchable now (init throws otherwise).
        var required: Int
        /// What a failure to watch a required directory says (`watching the directory`).
        var purpose: String
        var mask: UInt32
        var resyncMilliseconds: Int32
    }

    private let configuration: Configuration
    private let descriptor: Int32
    private let onChange: @Sendable () -> Void
    private let onEnd: @Sendable () -> Void
    private let stopped = Atomic<Bool>(false)

    /// `onEnd`: once the loop has ended (after `stop` or cancellation).
    init(_ configuration: Configuration, onChange: @escaping @Sendable () -> Void, onEnd: @escaping @Sendable () -> Void = {}) throws {
        descriptor = inotify_init1(Int32(IN_NONBLOCK | IN_CLOEXEC))
        guard descriptor >= 0 else { throw AgentError.system("inotify_init1", errno: errno, path: nil) }
        for directory in configuration.directories.prefix(configuration.required)
        where inotify_add_watch(descriptor, directory, configuration.mask) < 0 {
            let code = errno
            close(descriptor)
            throw AgentError.system(configuration.purpose, errno: code, path: directory)
        }
        self.configuration = configuration
        self.onChange = onChange
        self.onEnd = onEnd
        addMissingWatches()
    }

    /// Watches until the calling task is cancelled.
    func run() async {
        await DedicatedThread.run(configuration.name, stop: { [self] in stop() }) { [self] in loop() }
    }

    func stop() { stopped.store(true, ordering: .releasing) }

    private var isStopped: Bool { stopped.load(ordering: .acquiring) }

    private func addMissingWatches() {
        for directory in configuration.directories { _ = inotify_add_watch(descriptor, directory, configuration.mask) }
    }

    private func loop() {
        var buffer = [UInt8](repeating: 0, count: 8192)
        var entry = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        let resync = configuration.resyncMilliseconds
        while !isStopped {
            // A short poll so `stop` is noticed; the resync counts elapsed time.
            var waited: Int32 = 0
            var ready: Int32 = 0
            while !isStopped, waited < resync {
                ready = poll(&entry, 1, min(200, resync - waited))
                if ready != 0 { break }
                waited += 200
            }
            if isStopped { break }
            if ready > 0 {
                // Drain: which entry changed does not matter, only that one did.
                while read(descriptor, &buffer, buffer.count) > 0 {}
                addMissingWatches()
            }
            onChange()
        }
        close(descriptor)
        onEnd()
    }
}
