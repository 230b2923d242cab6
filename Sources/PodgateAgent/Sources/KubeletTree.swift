#if canImport(Glibc)
import Glibc
#endif
import PodgateCgroups
import PodgateKube
import PodgateModel

/// The kubelet's pod cgroups below the agent's cgroup root, for both cgroup
/// drivers and every QoS class. The root is where the programs attach: the
/// kubelet's kubepods directory (`kubepods.slice`, `kubepods`, or one under a
/// custom kubelet `--cgroup-root` such as kind's `kubelet.slice/kubelet-kubepods.slice`
/// or `kubelet/kubepods`), or a directory holding the default ones.
/// Container scopes below a pod's cgroup need no entry of their own: the
/// BPF programs walk up to the pod's cgroup (ancestor IDs).
struct KubeletTree: Sendable {
    let root: String
    /// The directory the kubelet's layout is relative to (`kubepods.slice/...`).
    let base: String
    /// The directories holding pod cgroups, relative to `base`.
    let relativeParents: [String]

    init(root: String) {
        self.root = root
        let name = root.split(separator: "/").last.map(String.init) ?? ""
        if KubeletCgroups.isKubepodsDirectory(name) {
            base = String(root.dropLast(name.count + 1))
            relativeParents = KubeletCgroups.parentDirectories(kubepodsDirectory: name)
        } else {
            base = root
            relativeParents = KubeletCgroups.parentDirectories
        }
    }

    /// The kubepods directory of the default `--cgroup-root` or kind's
    /// (`/kubelet`), systemd driver first: `<cgroup2>/kubepods.slice`,
    /// `<cgroup2>/kubepods`, `<cgroup2>/kubelet.slice/kubelet-kubepods.slice`,
    /// `<cgroup2>/kubelet/kubepods`.
    static func detectRoot(mount: String) throws -> String {
        let candidates = KubeletCgroups.knownCgroupRoots.flatMap { cgroupRoot in
            CgroupDriver.allCases.map { "\(mount)/" + KubeletCgroups.kubepodsDirectory(cgroupRoot: cgroupRoot, driver: $0) }
        }
        guard let found = candidates.first(where: isDirectory) else {
            throw AgentError.configuration("no kubelet cgroup hierarchy found: none of \(candidates[0]) (systemd driver), \(candidates[1]) (cgroupfs driver), \(candidates[2]), \(candidates[3]) (kubelet --cgroup-root=/kubelet, as kind sets) exists; pass --cgroup-root PATH")
        }
        return found
    }

    /// The directories that hold pod cgroups (and QoS directories), inside the root.
    var parentDirectories: [String] {
        relativeParents.map { base + "/" + $0 }.filter(isInsideRoot)
    }

    /// Pod UID (lower case) -> the ID of its pod-level cgroup, for every pod
    /// cgroup that exists now below the root.
    func podCgroups() -> [String: CgroupID] {
        var found: [String: CgroupID] = [:]
        for (uid, relative) in PodCgroupScan.podCgroups(mount: base, parentDirectories: relativeParents) {
            let path = base + "/" + relative
            // A pod cgroup removed since the listing is simply not there.
            guard isInsideRoot(path), let id = try? Cgroups.id(of: path) else { continue }
            found[uid] = id
        }
        return found
    }

    /// Pod UID (lower case) -> the directory of its pod-level cgroup.
    func podCgroupPaths() -> [String: String] {
        var found: [String: String] = [:]
        for (uid, relative) in PodCgroupScan.podCgroups(mount: base, parentDirectories: relativeParents) {
            let path = base + "/" + relative
            if isInsideRoot(path) { found[uid] = path }
        }
        return found
    }

    private func isInsideRoot(_ path: String) -> Bool { path == root || path.hasPrefix(root + "/") }

    static func isDirectory(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }
}
