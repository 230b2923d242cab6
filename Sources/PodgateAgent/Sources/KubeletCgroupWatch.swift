#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// Calls `onChange` as soon as a pod cgroup appears or goes in one of the
/// kubelet's parent directories (inotify), so a new pod is enforced without
/// waiting for a resync, and once per `resyncMilliseconds` anyway (the
/// periodic full resync). Parent directories that do not exist yet (a QoS
/// class no pod used so far) are watched from the moment they appear: each
/// wake-up adds the missing watches. Blocking `poll` runs on its own thread.
final class KubeletCgroupWatch: @unchecked Sendable {
    // @unchecked: `watched` is only touched by the thread after init;
    // `stopped` is guarded by `lock`.
    private let descriptor: Int32
    private let directories: [String]
    private let resyncMilliseconds: Int32
    private let onChange: @Sendable () -> Void
    private var watched: [Int32: String] = [:]
    private let lock = NSLock()
    private var stopped = false

    /// `directories`: the root first, then the parent directories below it.
    init(directories: [String], resyncMilliseconds: Int32, onChange: @escaping @Sendable () -> Void) throws {
        descriptor = inotify_init1(Int32(IN_NONBLOCK | IN_CLOEXEC))
        guard descriptor >= 0 else { throw AgentError.system("inotify_init1", errno: errno, path: nil) }
        self.directories = directories
        self.resyncMilliseconds = resyncMilliseconds
        self.onChange = onChange
        // The root must be watchable now: without it, parents created later go unseen.
        if let root = directories.first, inotify_add_watch(descriptor, root, Self.mask) < 0 {
            let code = errno
            close(descriptor)
            throw AgentError.system("watching the cgroup root", errno: code, path: root)
        }
        addMissingWatches()
        let thread = Thread { [self] in self.loop() }
        thread.name = "podgate-cgwatch"
        thread.start()
    }

    func stop() { lock.withLock { stopped = true } }

    private var isStopped: Bool { lock.withLock { stopped } }

    private static let mask = UInt32(IN_CREATE | IN_DELETE | IN_MOVED_TO | IN_MOVED_FROM | IN_ONLYDIR)

    /// Adding a watch twice on one directory returns the same descriptor, so
    /// this is cheap and idempotent; a directory recreated gets a new one.
    private func addMissingWatches() {
        for directory in directories {
            let watch = inotify_add_watch(descriptor, directory, Self.mask)
            if watch >= 0 { watched[watch] = directory }
        }
    }

    private func loop() {
        var buffer = [UInt8](repeating: 0, count: 8192)
        var entry = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        while !isStopped {
            // A short poll so `stop` is noticed; the resync counts elapsed time.
            var waited: Int32 = 0
            var ready: Int32 = 0
            while !isStopped, waited < resyncMilliseconds {
                ready = poll(&entry, 1, min(200, resyncMilliseconds - waited))
                if ready != 0 { break }
                waited += 200
            }
            if isStopped { break }
            if ready > 0 {
                // Drain: which directory changed does not matter, only that one did.
                while read(descriptor, &buffer, buffer.count) > 0 {}
                addMissingWatches()
            }
            onChange()
        }
        close(descriptor)
    }
}
