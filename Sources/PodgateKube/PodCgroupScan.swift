#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif

/// One listing of the kubelet's pod cgroups under a cgroup2 mount: the
/// resync that repairs whatever a new-cgroup watcher missed.
public enum PodCgroupScan {
    /// Pod UID -> pod cgroup path relative to `mount`, for both drivers and
    /// all QoS classes. Container scopes below pods are not descended into.
    /// `parentDirectories` (relative to `mount`) default to the default
    /// `--cgroup-root`'s; see `KubeletCgroups.parentDirectories(cgroupRoot:)`
    /// and `parentDirectories(kubepodsDirectory:)` for others.
    public static func podCgroups(mount: String,
                                  parentDirectories: [String] = KubeletCgroups.parentDirectories) -> [String: String] {
        var found: [String: String] = [:]
        let files = FileManager.default
        for parent in parentDirectories {
            // A missing parent is normal: only one driver's layout exists.
            guard let names = try? files.contentsOfDirectory(atPath: mount + "/" + parent) else { continue }
            for name in names {
                guard let uid = KubeletCgroups.podUID(directoryName: name) else { continue }
                let path = parent + "/" + name
                guard isDirectory(mount + "/" + path) else { continue }
                found[uid] = path
            }
        }
        return found
    }

    /// The first candidate that exists: the pod's cgroup, once the kubelet made it.
    public static func podCgroup(mount: String, uid: String, qos: QoSClass?, cgroupRoot: String = "/") -> String? {
        KubeletCgroups.candidatePaths(uid: uid, qos: qos, cgroupRoot: cgroupRoot).first { isDirectory(mount + "/" + $0) }
    }

    private static func isDirectory(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }
}
