#if canImport(Glibc)
import Glibc
#endif
import PodgateModel

/// Local mode's convention: a pod's cgroup is `<root>/<namespace>_<name>`
/// (Kubernetes names never contain `_`, so the name is unambiguous). A pod
/// whose directory does not exist yet is simply not registered; the watcher
/// sees the directory appear and the next reconcile picks it up.
struct LocalCgroups {
    let root: String

    func path(for pod: PodRef) -> String { "\(root)/\(pod.namespace)_\(pod.name)" }

    func resolve(_ pods: [PodRef]) -> [PodRef: CgroupID] {
        var found: [PodRef: CgroupID] = [:]
        for pod in pods {
            var info = stat()
            if stat(path(for: pod), &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR {
                found[pod] = CgroupID(UInt64(info.st_ino))
            }
        }
        return found
    }
}
