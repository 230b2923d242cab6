#if canImport(Glibc)
import Glibc
#endif

/// Calls `onChange` as soon as a pod cgroup appears or goes in one of the
/// kubelet's parent directories, so a new pod is enforced without waiting
/// for a resync, and once per `resyncMilliseconds` anyway. The root must be
/// watchable now (without it, parents created later go unseen); parent
/// directories that do not exist yet (a QoS class no pod used so far) are
/// watched from the moment they appear. It runs as one of the source's
/// services (`run`, in the source's task group).
final class KubeletCgroupWatch: Sendable {
    private let watch: InotifyWatch

    /// `directories`: the root first, then the parent directories below it.
    init(directories: [String], resyncMilliseconds: Int32, onChange: @escaping @Sendable () -> Void) throws {
        watch = try InotifyWatch(.init(name: "podgate-cgwatch", directories: directories, required: 1, purpose: "watching the cgroup root",
                                       mask: UInt32(IN_CREATE | IN_DELETE | IN_MOVED_TO | IN_MOVED_FROM | IN_ONLYDIR),
                                       resyncMilliseconds: resyncMilliseconds), onChange: onChange)
    }

    /// Watches until the calling task is cancelled.
    func run() async { await watch.run() }

    func stop() { watch.stop() }
}
