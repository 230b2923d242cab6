#if canImport(Glibc)
import Glibc
#endif
import PodgateCgroups
import PodgateModel

/// The network namespaces holding sockets of local pods: those of the
/// processes in the registered pod cgroups (and their sub-cgroups). A socket
/// iterator walks one namespace, so revocation runs once per namespace here.
enum PodNetworkNamespaces {
    /// One /proc/PID/ns/net path per distinct namespace, for the cgroups
    /// under `root` whose ID is in `cgroups`; and how many of their
    /// processes this agent cannot see (a cgroup lists a process outside the
    /// reader's PID namespace as 0: the agent then lacks the host's PIDs).
    static func find(root: String, cgroups: Set<CgroupID>) -> (paths: [String], invisible: Int) {
        var seen = Set<[UInt64]>()
        var paths: [String] = []
        let pids = Cgroups.processes(below: root, in: cgroups, maximumDepth: maximumDepth)
        for pid in pids where pid > 0 {
            let path = "/proc/\(pid)/ns/net"
            var info = stat()
            guard stat(path, &info) == 0 else { continue }  // exited meanwhile
            if seen.insert([UInt64(info.st_dev), UInt64(info.st_ino)]).inserted { paths.append(path) }
        }
        return (paths, pids.filter { $0 <= 0 }.count)
    }

    /// Deeper than any kubelet layout below the cgroup root.
    static let maximumDepth = 12
}
