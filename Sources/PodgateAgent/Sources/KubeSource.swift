import Foundation
import PodgateLog
import PodgateCgroups
import PodgateCompiler
import PodgateKube
import PodgateManifests
import PodgateModel
import Synchronization

/// Kubernetes mode: Namespaces, Pods and NetworkAuthenticationPolicies
/// listed and watched from the API server, and this node's pod cgroups from
/// the kubelet's hierarchy. Pods scheduled here are known from the API
/// before the kubelet creates their cgroup (pre-registration): when the
/// cgroup appears, the inotify watch wakes the agent and only the endpoint
/// entry is left to write.
final class KubeSource: ClusterSource, @unchecked Sendable {
    // @unchecked: `tree`, `cgroupWatch` and `announcedWaiting` are touched
    // only by the agent's reconcile loop (cgroupRoot, start, read, stop run
    // there, one at a time); `objects` (behind its lock) and the wake-up
    // continuation are thread-safe.
    static let resyncMilliseconds: Int32 = 30_000

    private let log = Logger("kube")
    private let watcher: KubeWatcher
    private let requestedRoot: String?
    private let nodeName: String
    private let clusterNetworks: [CIDR]
    private var tree: KubeletTree?
    private var cgroupWatch: KubeletCgroupWatch?
    private var netns: PodNetnsAddresses?
    /// The watched objects, decoded on arrival by the watch threads; the
    /// JSON of an object is dropped as soon as it is decoded.
    private let objects: LockedAPISnapshot
    /// The snapshot of the previous reading, its local pods and rejected
    /// objects, and its number: the next reading's changes lead from it.
    private var handed: (snapshot: ClusterSnapshot, local: Set<PodRef>, rejected: [ManifestKey], sequence: Int)?
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
        objects = LockedAPISnapshot(node: options.settings.nodeName)
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
        let cgroupWatch = self.cgroupWatch
        await withTaskGroup(of: Void.self) { group in
            group.addTask { [watcher, objects, continuation] in
                // Decoded on the resource's thread as each page or event
                // arrives, outside the lock; only the decoded form is kept.
                await watcher.run(decode: { APISnapshot.decode($1, as: $0) }, onChange: { resource, change in
                    objects.state.withLock { $0.apply(change, to: resource) }
                    continuation.yield(())
                }, report: { line in log.warning(line) })
            }
            if let cgroupWatch { group.addTask { await cgroupWatch.run() } }
            await group.next()
            group.cancelAll()
        }
    }

    func stop() {
        cgroupWatch?.stop()
        netns?.stop()
        continuation.finish()
    }

    func read(previous: ClusterSnapshot) throws -> SourceReading {
        let resources = watcher.resources
        guard objects.state.withLock({ $0.hasSynced(resources) }) else {
            if !announcedWaiting { log.info("waiting for the first complete list of \(resources.map(\.name).joined(separator: ", ")) before enforcing anything new") }
            announcedWaiting = true
            return SourceReading(snapshot: previous, problems: [], localCgroups: [:], isReady: false,
                                 generation: nil, syncedSources: [])
        }
        let (built, builtProblems, changed, onNode, rejected) = objects.state.withLock { objects in
            let (snapshot, problems) = objects.build(previous: previous)
            return (snapshot, problems, objects.takeChanged(), objects.podsOnNode, objects.rejected)
        }
        var snapshot = built
        var problems = builtProblems
        // This node's pods: from the index, and a rejected one kept from the kernel's snapshot.
        let local = onNode.union(rejected.filter { $0.kind == "Pod" }.map { PodRef(namespace: $0.namespace, name: $0.name) })
            .filter { snapshot.pods[$0]?.nodeName == nodeName }
        if let netns, let tree {
            // This node's pods, learned from their network namespaces (hostNetwork
            // pods share the node's: their addresses are the node's, not theirs).
            let paths = tree.podCgroupPaths()
            var tracked: [String: String] = [:]
            for ref in local {
                guard let pod = snapshot.pods[ref], !pod.hostNetwork else { continue }
                if let path = paths[pod.uid.lowercased()] { tracked[pod.uid.lowercased()] = path }
            }
            netns.track(tracked)
            problems += APISnapshot.addNetnsAddresses(netns.addresses, nodeName: nodeName, clusterNetworks: clusterNetworks,
                                                      local: local, to: &snapshot)
        }
        var reading = SourceReading(snapshot: snapshot, problems: problems, localCgroups: localCgroups(snapshot, local: local),
                                    isReady: true, generation: nil, syncedSources: ["api", "cgroups"])
        reading.changes = changes(to: snapshot, local: local, changed: changed, rejected: rejected)
        return reading
    }

    /// The changes from the previous reading: at the entries the watch
    /// changed, and where this pass adds to them (fallbacks to the kernel's
    /// versions, last valid policies, this node's addresses from network
    /// namespaces), which may move without an API change.
    private func changes(to snapshot: ClusterSnapshot, local: Set<PodRef>, changed: Set<APISnapshot.Slot>,
                         rejected: [ManifestKey]) -> SourceChanges? {
        guard let handed else {
            self.handed = (snapshot, local, rejected, 0)
            return nil
        }
        let slots = APISnapshot.slotsToCompare(changed: changed, local: local.union(handed.local), rejected: rejected + handed.rejected,
                                               old: handed.snapshot, new: snapshot)
        let changes = APISnapshot.changes(from: handed.snapshot, to: snapshot, at: slots)
        // Nothing changed: the same number, so a pass the agent skips (the
        // snapshot it holds is this one) does not cost the next one a diff.
        let sequence = changes.isEmpty ? handed.sequence : handed.sequence + 1
        self.handed = (snapshot, local, rejected, sequence)
        return SourceChanges(since: handed.sequence, sequence: sequence, changes: changes)
    }

    /// This node's pods that have a cgroup: matched by UID, so a pod
    /// recreated under the same name never inherits the old one's cgroup.
    private func localCgroups(_ snapshot: ClusterSnapshot, local: Set<PodRef>) -> [PodRef: CgroupID] {
        guard let tree else { return [:] }
        return Self.match(local.compactMap { snapshot.pods[$0] }, nodeName: nodeName, cgroupsByUID: tree.podCgroups())
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

/// The API objects, shared by the watch threads (writers) and the reconcile loop.
final class LockedAPISnapshot: Sendable {
    let state: Mutex<APISnapshot>
    init(node: String) { state = Mutex(APISnapshot(node: node)) }
}
