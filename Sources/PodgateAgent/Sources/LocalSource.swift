import Foundation
import PodgateCgroups
import PodgateManifests
import PodgateModel

/// Local mode: manifests from a directory, pod cgroups named
/// `<cgroup-root>/<namespace>_<name>`. Always ready: the directory is the
/// whole truth at every read.
final class LocalSource: ClusterSource, @unchecked Sendable {
    // @unchecked: `manifests` and `watch` are touched only by the agent's
    // reconcile loop (start, read, stop run there, one at a time); `watch`
    // is set by `start`, before `run` reads it.
    private var manifests: WatchedManifests
    private let cgroups: LocalPodCgroups
    private let nodeName: String
    private var watch: InotifyWatch?

    init(directory: String, cgroupRoot: String?, nodeName: String, stateDirectory: String? = nil) {
        manifests = WatchedManifests(path: directory, keepDirectory: stateDirectory.map { "\($0)/manifests-last-good" })
        cgroups = LocalPodCgroups(root: cgroupRoot ?? "")
        self.nodeName = nodeName
    }

    func cgroupRoot() throws -> String {
        let root = cgroups.root
        guard !root.isEmpty else {
            throw AgentError.configuration("--cgroup-root is required in local mode: the cgroup directory that holds <namespace>_<name> pod cgroups")
        }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: root, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw AgentError.configuration("--cgroup-root \(root) does not exist; create it inside the cgroup2 hierarchy first")
        }
        return root
    }

    func start(cgroupRoot root: String) throws -> AsyncStream<Void> {
        // Newest only: a burst of file events becomes one reconcile.
        let (changes, continuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        // A file is read when its writer has finished (close or rename), so
        // IN_MODIFY (every write of a half-written file) does not wake the reader.
        // inotify reports every change; the resync only repairs what it missed,
        // so it need not re-read the directory every second.
        let mask = UInt32(IN_CREATE | IN_DELETE | IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_ATTRIB | IN_DELETE_SELF)
        watch = try InotifyWatch(.init(name: "podgate-dirwatch", directories: [manifests.path, root], required: 2,
                                       purpose: "watching the directory", mask: mask, resyncMilliseconds: 5000),
                                 onChange: { continuation.yield(()) }, onEnd: { continuation.finish() })
        return changes
    }

    func run() async { await watch?.run() }

    func stop() { watch?.stop() }

    func read(previous: ClusterSnapshot) throws -> SourceReading {
        let reading = try manifests.read()
        let loaded = reading.set
        // Unreadable Pods and Namespaces, and policies edited into invalid
        // ones, keep the version the kernel holds (fail closed).
        let snapshot = loaded.keepingLastGood(from: previous).keepingLastValidPolicies(from: previous)
        let local = snapshot.pods.values.filter { $0.nodeName == nil || $0.nodeName == nodeName }.map(\.ref)
        return SourceReading(snapshot: snapshot, problems: reading.problems + loaded.diagnostics,
                             localCgroups: cgroups.resolve(local), isReady: true,
                             generation: reading.generation, syncedSources: ["manifests", "cgroups"])
    }
}
