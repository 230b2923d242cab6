#if canImport(Glibc)
import Glibc
#endif
import PodgateCgroups
import PodgateKube
import PodgateModel

/// The kubelet's pod cgroups below the agent's cgroup root, for both cgroup
/// drivers and every QoS class. The root is where the programs attach: the
/// kubelet's `kubepods.slice` or `kubepods`, or a directory holding them.
/// Container scopes below a pod's cgroup need no entry of their own: the
/// BPF programs walk up to the pod's cgroup (ancestor IDs).
struct KubeletTree: Sendable {
    let root: String
    /// The directory the kubelet's layout is relative to (`kubepods.slice/...`).
    let base: String

    init(root: String) {
        self.root = root
        let name = root.split(separator: "/").last.map(String.init) ?? ""
        if name == "kubepods.slice" || name == "kubepods" {
            base = String(root.dropLast(name.count + 1))
        } else {
            base = root
        }
    }

    /// `<cgroup2>/kubepods.slice` (systemd driver) or `<cgroup2>/kubepods` (cgroupfs).
    static func detectRoot(mount: String) throws -> String {
        let candidates = ["\(mount)/kubepods.slice", "\(mount)/kubepods"]
        guard let found = candidates.first(where: isDirectory) else {
            throw AgentError.configuration("no kubelet cgroup hierarchy found: neither \(candidates[0]) (systemd driver) nor \(candidates[1]) (cgroupfs driver) exists; pass --cgroup-root PATH")
        }
        return found
    }

    /// The directories that hold pod cgroups (and QoS directories), inside the root.
    var parentDirectories: [String] {
        KubeletCgroups.parentDirectories.map { base + "/" + $0 }.filter(isInsideRoot)
    }

    /// Pod UID (lower case) -> the ID of its pod-level cgroup, for every pod
    /// cgroup that exists now below the root.
    func podCgroups() -> [String: CgroupID] {
        var found: [String: CgroupID] = [:]
        for (uid, relative) in PodCgroupScan.podCgroups(mount: base) {
            let path = base + "/" + relative
            // A pod cgroup removed since the listing is simply not there.
            guard isInsideRoot(path), let id = try? Cgroups.id(of: path) else { continue }
            found[uid] = id
        }
        return found
    }

    private func isInsideRoot(_ path: String) -> Bool { path == root || path.hasPrefix(root + "/") }

    static func isDirectory(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }
}
