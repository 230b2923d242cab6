import PodgateModel

/// The pod's QoS class, as the API server reports it in `status.qosClass`;
/// the kubelet files the pod's cgroup under it.
public enum QoSClass: String, Sendable, CaseIterable {
    case guaranteed = "Guaranteed"
    case burstable = "Burstable"
    case bestEffort = "BestEffort"

    /// The lower-case word the kubelet uses in cgroup names.
    public var cgroupName: String {
        switch self {
        case .guaranteed: return "guaranteed"
        case .burstable: return "burstable"
        case .bestEffort: return "besteffort"
        }
    }

    /// `status.qosClass` of a Pod object; nil when absent (not yet set, or a
    /// manifest), in which case every class is a candidate.
    public init?(pod: DocumentValue) {
        guard let text = pod["status"]?["qosClass"]?.string else { return nil }
        self.init(rawValue: text)
    }
}

/// The kubelet's two cgroup drivers name the same hierarchy differently.
public enum CgroupDriver: String, Sendable, CaseIterable {
    case systemd
    case cgroupfs
}

/// Where the kubelet puts a pod's cgroup, and back: pure functions over
/// paths relative to the cgroup2 mount.
///
/// systemd: `kubepods.slice/kubepods-<qos>.slice/kubepods-<qos>-pod<uid_>.slice`,
///          Guaranteed: `kubepods.slice/kubepods-pod<uid_>.slice`
///          (`-` separates slice levels in systemd, so the UID's dashes become `_`).
/// cgroupfs: `kubepods/<qos>/pod<uid>`, Guaranteed: `kubepods/pod<uid>`.
/// A kubelet `--cgroup-root` other than `/` (kind sets `/kubelet`) moves the
/// hierarchy down and, under systemd, prefixes every slice name:
/// `kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-<qos>.slice/kubelet-kubepods-<qos>-pod<uid_>.slice`,
/// `kubelet/kubepods/<qos>/pod<uid>`.
/// Container cgroups (`cri-containerd-<id>.scope`, `crio-<id>.scope`,
/// `docker-<id>.scope`, or a bare container ID under cgroupfs) sit below the pod's.
public enum KubeletCgroups {
    /// The kubelet's `--cgroup-root` values the agent looks for by itself:
    /// the default, and kind's.
    public static let knownCgroupRoots = ["/", "/kubelet"]

    /// The kubepods directory for a kubelet `--cgroup-root`, relative to the
    /// cgroup2 mount: `kubepods.slice`, `kubelet.slice/kubelet-kubepods.slice`,
    /// `kubepods`, `kubelet/kubepods`.
    public static func kubepodsDirectory(cgroupRoot: String = "/", driver: CgroupDriver) -> String {
        let components = cgroupRoot.split(separator: "/").map(String.init)
        switch driver {
        case .systemd:
            var prefix = ""
            var parts: [String] = []
            for component in components {
                prefix += component
                parts.append(prefix + ".slice")
                prefix += "-"
            }
            return (parts + [prefix + "kubepods.slice"]).joined(separator: "/")
        case .cgroupfs:
            return (components + ["kubepods"]).joined(separator: "/")
        }
    }

    public static func podCgroupPath(uid: String, qos: QoSClass, driver: CgroupDriver, cgroupRoot: String = "/") -> String {
        let kubepods = kubepodsDirectory(cgroupRoot: cgroupRoot, driver: driver)
        switch (driver, qos) {
        case (.systemd, .guaranteed):
            return "\(kubepods)/\(sliceStem(kubepods))-pod\(systemdEscaped(uid)).slice"
        case (.systemd, _):
            let stem = sliceStem(kubepods), q = qos.cgroupName
            return "\(kubepods)/\(stem)-\(q).slice/\(stem)-\(q)-pod\(systemdEscaped(uid)).slice"
        case (.cgroupfs, .guaranteed):
            return "\(kubepods)/pod\(uid)"
        case (.cgroupfs, _):
            return "\(kubepods)/\(qos.cgroupName)/pod\(uid)"
        }
    }

    /// Every place the pod's cgroup may be: both drivers (the agent need not
    /// know the kubelet's configuration), and every QoS class when unknown
    /// (a pod's class is fixed at creation, but the API may not say it yet).
    public static func candidatePaths(uid: String, qos: QoSClass?, cgroupRoot: String = "/") -> [String] {
        let classes = qos.map { [$0] } ?? QoSClass.allCases
        return CgroupDriver.allCases.flatMap { driver in
            classes.map { podCgroupPath(uid: uid, qos: $0, driver: driver, cgroupRoot: cgroupRoot) }
        }
    }

    /// The directories that hold pod cgroups under the default `--cgroup-root`:
    /// what a new-cgroup watcher watches.
    public static let parentDirectories: [String] = parentDirectories(cgroupRoot: "/")

    /// The directories that hold pod cgroups for a kubelet `--cgroup-root`,
    /// both drivers, relative to the cgroup2 mount.
    public static func parentDirectories(cgroupRoot: String) -> [String] {
        CgroupDriver.allCases.flatMap { driver -> [String] in
            let kubepods = kubepodsDirectory(cgroupRoot: cgroupRoot, driver: driver)
            let parts = kubepods.split(separator: "/").map(String.init)
            let above = parts.dropLast().joined(separator: "/")
            return parentDirectories(kubepodsDirectory: parts.last ?? kubepods).map { above.isEmpty ? $0 : above + "/" + $0 }
        }
    }

    /// A kubepods directory name and its QoS directories, relative to the
    /// kubepods directory's parent; empty when `name` is no kubepods directory.
    public static func parentDirectories(kubepodsDirectory name: String) -> [String] {
        guard isKubepodsDirectory(name) else { return [] }
        return [name] + qosDirectoryNames(kubepodsDirectory: name).map { name + "/" + $0 }
    }

    /// `kubepods` (cgroupfs), `kubepods.slice` or `<prefix>-kubepods.slice`
    /// (systemd, a custom `--cgroup-root`, e.g. `kubelet-kubepods.slice`).
    public static func isKubepodsDirectory(_ name: String) -> Bool {
        if name == "kubepods" || name == "kubepods.slice" { return true }
        guard name.hasSuffix("-kubepods.slice") else { return false }
        let prefix = name.dropLast("-kubepods.slice".count)
        return !prefix.isEmpty && !prefix.split(separator: "-", omittingEmptySubsequences: false).contains(where: \.isEmpty)
    }

    /// The Burstable and BestEffort directories inside a kubepods directory.
    static func qosDirectoryNames(kubepodsDirectory name: String) -> [String] {
        let classes = [QoSClass.burstable, .bestEffort].map(\.cgroupName)
        if name == "kubepods" { return classes }
        let stem = sliceStem(name)
        return classes.map { "\(stem)-\($0).slice" }
    }

    /// The pod UID named by one directory entry of a parent directory, or nil
    /// for anything else (QoS slices, container scopes, kubelet's own files).
    public static func podUID(directoryName name: String) -> String? {
        if name.hasSuffix(".slice") {
            // <prefix>kubepods-pod<uid_>.slice, <prefix>kubepods-<qos>-pod<uid_>.slice,
            // the prefix being slice levels each ending in `-` (e.g. `kubelet-`).
            let stem = String(name.dropLast(".slice".count))
            var levels = stem.split(separator: "-", omittingEmptySubsequences: false).map(String.init)
            guard let last = levels.popLast(), last.hasPrefix("pod") else { return nil }
            if let qos = levels.last, QoSClass.allCases.contains(where: { $0.cgroupName == qos }) { levels.removeLast() }
            guard levels.popLast() == "kubepods", !levels.contains(where: \.isEmpty) else { return nil }
            return validUID(String(last.dropFirst(3).map { $0 == "_" ? "-" : $0 }))
        }
        guard name.hasPrefix("pod") else { return nil }
        return validUID(String(name.dropFirst(3)))
    }

    /// A path relative to the cgroup2 mount (or to any directory above a
    /// kubepods directory) -> the pod UID and the pod-level path, for a pod
    /// cgroup or anything below it (container scopes). nil for paths outside
    /// the kubelet's pod hierarchy.
    public static func podCgroup(containing relativePath: String) -> (uid: String, podPath: String)? {
        let parts = relativePath.split(separator: "/").map(String.init)
        for index in parts.indices where isKubepodsDirectory(parts[index]) {
            var pod = index + 1
            guard pod < parts.count else { continue }
            if qosDirectoryNames(kubepodsDirectory: parts[index]).contains(parts[pod]) { pod += 1 }
            guard pod < parts.count, let uid = podUID(directoryName: parts[pod]) else { continue }
            return (uid, parts[0...pod].joined(separator: "/"))
        }
        return nil
    }

    /// `kubelet-kubepods` for `kubelet.slice/kubelet-kubepods.slice`.
    static func sliceStem(_ path: String) -> String {
        let name = path.split(separator: "/").last.map(String.init) ?? path
        return name.hasSuffix(".slice") ? String(name.dropLast(".slice".count)) : name
    }

    /// A container's cgroup (below a pod's): never mapped to a pod by itself.
    public static func isContainerScope(_ name: String) -> Bool {
        for prefix in ["cri-containerd-", "crio-", "docker-"] where name.hasPrefix(prefix) && name.hasSuffix(".scope") {
            return true
        }
        return false
    }

    static func systemdEscaped(_ uid: String) -> String {
        String(uid.map { $0 == "-" ? "_" : $0 })
    }

    /// API-server UIDs are UUIDs; static (mirror) pods use a 32-hex-digit
    /// hash. Accept hex digits and dashes only, of one of those lengths.
    static func validUID(_ text: String) -> String? {
        guard text.count == 36 || text.count == 32,
              text.allSatisfy({ $0 == "-" || $0.isHexDigit }) else { return nil }
        return text.lowercased()
    }
}
