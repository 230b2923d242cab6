import Foundation
import PodgateLog
import PodgateCgroups
import PodgateKube
import PodgateManifests
import PodgateModel

/// Kubernetes mode: Namespaces, Pods and NetworkAuthenticationPolicies
/// listed and watched from the API server, and this node's pod cgroups from
/// the kubelet's hierarchy. Pods scheduled here are known from the API
/// before the kubelet creates their cgroup (pre-registration): when the
/// cgroup appears, the inotify watch wakes the agent and only the endpoint
/// entry is left to write.
final class KubeSource: ClusterSource, @unchecked Sendable {
    // @unchecked: `snapshots`, `tree`, `cgroupWatch` and `announcedWaiting`
    // are touched only by the agent's reconcile loop (cgroupRoot, start,
    // read, stop run there, one at a time); the cache and the wake-up
    // continuation are thread-safe.
    static let resyncMilliseconds: Int32 = 30_000

    private let log = Logger("kube")
    private let watcher: KubeWatcher
    private let cache = KubeObjectCache()
    private let requestedRoot: String?
    private let nodeName: String
    private let clusterNetworks: [CIDR]
    private var tree: KubeletTree?
    private var cgroupWatch: KubeletCgroupWatch?
    private var netns: PodNetnsAddresses?
    private var snapshots = APISnapshot()
    private var announcedWaiting = false
    private let wakeups: AsyncStream<Void>
    private let continuation: AsyncStream<Void>.Continuation

    init(options: AgentOptions) throws {
        let config: KubeConfig
        if let path = options.kubeconfig {
            do { config = try KubeConfig.load(path: path, parse: Self.parseYAML) } catch {
                throw AgentError.configuration("--kubeconfig \(error)")
            }
        } else {
            config = try KubeConfig.inCluster(environment: ProcessInfo.processInfo.environment)
        }
        watcher = KubeWatcher(client: HTTPClient(config: config))
        requestedRoot = options.cgroupRoot
        nodeName = options.settings.nodeName
        clusterNetworks = options.settings.clusterNetworks
        // Newest only: a burst of API and cgroup events becomes one reconcile.
        (wakeups, continuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        log.info("API server \(config.server) (\(config.origin)); node \(nodeName)")
    }

    /// A kubeconfig holds one YAML document.
    static func parseYAML(_ text: String) throws -> DocumentValue {
        guard let document = try YAMLParser.parse(text).first else {
            throw AgentError.configuration("the kubeconfig is empty")
        }
        return document
    }

    func cgroupRoot() throws -> String {
        let root: String
        if let requestedRoot {
            guard KubeletTree.isDirectory(requestedRoot) else {
                throw AgentError.configuration("--cgroup-root \(requestedRoot) is not a directory: name the kubelet's kubepods.slice, kubepods, or <prefix>-kubepods.slice cgroup")
            }
            root = requestedRoot
        } else {
            root = try KubeletTree.detectRoot(mount: try Cgroups.mountPoint())
        }
        tree = KubeletTree(root: root)
        return root
    }

    func start(cgroupRoot root: String) throws -> AsyncStream<Void> {
        let tree = self.tree ?? KubeletTree(root: root)
        self.tree = tree
        let continuation = self.continuation
        cgroupWatch = try KubeletCgroupWatch(directories: [root] + tree.parentDirectories,
                                             resyncMilliseconds: Self.resyncMilliseconds) { continuation.yield(()) }
        let log = self.log
        netns = PodNetnsAddresses(onChange: { continuation.yield(()) }, onProblem: { log.warning($0) })
        return wakeups
    }

    func run() async {
        let log = self.log
        await withTaskGroup(of: Void.self) { group in
            group.addTask { [watcher, cache] in
                await watcher.run(into: cache) { line in log.warning(line) }
            }
            group.addTask { [cache, continuation] in
                for await _ in cache.changes { continuation.yield(()) }
            }
            await group.next()
            group.cancelAll()
        }
    }

    func stop() {
        cgroupWatch?.stop()
        netns?.stop()
        cache.finish()
        continuation.finish()
    }

    func read(previous: ClusterSnapshot) throws -> SourceReading {
        let resources = watcher.resources
        guard cache.hasSynced(resources) else {
            if !announcedWaiting { log.info("waiting for the first complete list of \(resources.map(\.name).joined(separator: ", ")) before enforcing anything new") }
            announcedWaiting = true
            return SourceReading(snapshot: previous, problems: [], localCgroups: [:], isReady: false,
                                 generation: nil, syncedSources: [])
        }
        var objects: [KubeResource: [PodgateKube.ObjectKey: DocumentValue]] = [:]
        for resource in resources { objects[resource] = cache.objects(of: resource) }
        var (snapshot, problems) = snapshots.build(objects, previous: previous)
        if let netns, let tree {
            // This node's pods, learned from their network namespaces (hostNetwork
            // pods share the node's: their addresses are the node's, not theirs).
            let paths = tree.podCgroupPaths()
            var tracked: [String: String] = [:]
            for pod in snapshot.pods.values where pod.nodeName == nodeName && !pod.hostNetwork {
                if let path = paths[pod.uid.lowercased()] { tracked[pod.uid.lowercased()] = path }
            }
            netns.track(tracked)
            problems += APISnapshot.addNetnsAddresses(netns.addresses, nodeName: nodeName, clusterNetworks: clusterNetworks, to: &snapshot)
        }
        return SourceReading(snapshot: snapshot, problems: problems, localCgroups: localCgroups(snapshot),
                             isReady: true, generation: nil, syncedSources: ["api", "cgroups"])
    }

    /// This node's pods that have a cgroup: matched by UID, so a pod
    /// recreated under the same name never inherits the old one's cgroup.
    private func localCgroups(_ snapshot: ClusterSnapshot) -> [PodRef: CgroupID] {
        guard let tree else { return [:] }
        return Self.match(snapshot.pods.values, nodeName: nodeName, cgroupsByUID: tree.podCgroups())
    }

    /// The kubelet names a static pod's cgroup after its manifest hash, which
    /// its mirror pod in the API carries in this annotation (its own UID differs).
    static let mirrorAnnotation = "kubernetes.io/config.mirror"

    static func match(_ pods: some Sequence<Pod>, nodeName: String, cgroupsByUID: [String: CgroupID]) -> [PodRef: CgroupID] {
        var found: [PodRef: CgroupID] = [:]
        for pod in pods where pod.nodeName == nodeName {
            let uids = [pod.uid, pod.annotations[mirrorAnnotation] ?? ""].filter { !$0.isEmpty }
            if let id = uids.lazy.compactMap({ cgroupsByUID[$0.lowercased()] }).first { found[pod.ref] = id }
        }
        return found
    }
}
