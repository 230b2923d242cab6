import PodgateModel

/// Local mode's convention: a pod's cgroup is `<root>/<namespace>_<name>`
/// (Kubernetes names never contain `_`, so the name is unambiguous). A pod
/// whose directory does not exist yet is simply not registered; the agent's
/// watcher sees the directory appear and the next reconcile picks it up.
public struct LocalPodCgroups: Sendable {
    public let root: String

    public init(root: String) { self.root = root }

    public func path(for pod: PodRef) -> String { "\(root)/\(pod.namespace)_\(pod.name)" }

    /// The IDs of the pods whose cgroup exists.
    public func resolve(_ pods: [PodRef]) -> [PodRef: CgroupID] {
        var found: [PodRef: CgroupID] = [:]
        for pod in pods {
            if let id = try? Cgroups.id(of: path(for: pod)) { found[pod] = id }
        }
        return found
    }
}
