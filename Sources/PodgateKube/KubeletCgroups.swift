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
/// paths relative to the cgroup2 mount (default kubelet `--cgroup-root`).
///
/// systemd: `kubepods.slice/kubepods-<qos>.slice/kubepods-<qos>-pod<uid_>.slice`,
///          Guaranteed: `kubepods.slice/kubepods-pod<uid_>.slice`
///          (`-` separates slice levels in systemd, so the UID's dashes become `_`).
/// cgroupfs: `kubepods/<qos>/pod<uid>`, Guaranteed: `kubepods/pod<uid>`.
/// Container cgroups (`cri-containerd-<id>.scope`, `crio-<id>.scope`,
/// `docker-<id>.scope`, or a bare container ID under cgroupfs) sit below the pod's.
public enum KubeletCgroups {
    public static func podCgroupPath(uid: String, qos: QoSClass, driver: CgroupDriver) -> String {
        switch (driver, qos) {
        case (.systemd, .guaranteed):
            return "kubepods.slice/kubepods-pod\(systemdEscaped(uid)).slice"
        case (.systemd, _):
            let q = qos.cgroupName
            return "kubepods.slice/kubepods-\(q).slice/kubepods-\(q)-pod\(systemdEscaped(uid)).slice"
        case (.cgroupfs, .guaranteed):
            return "kubepods/pod\(uid)"
        case (.cgroupfs, _):
            return "kubepods/\(qos.cgroupName)/pod\(uid)"
        }
    }

    /// Every place the pod's cgroup may be: both drivers (the agent need not
    /// know the kubelet's configuration), and every QoS class when unknown
    /// (a pod's class is fixed at creation, but the API may not say it yet).
    public static func candidatePaths(uid: String, qos: QoSClass?) -> [String] {
        let classes = qos.map { [$0] } ?? QoSClass.allCases
        return CgroupDriver.allCases.flatMap { driver in
            classes.map { podCgroupPath(uid: uid, qos: $0, driver: driver) }
        }
    }

    /// The directories that hold pod cgroups: what a new-cgroup watcher watches.
    public static let parentDirectories: [String] = [
        "kubepods.slice", "kubepods.slice/kubepods-burstable.slice", "kubepods.slice/kubepods-besteffort.slice",
        "kubepods", "kubepods/burstable", "kubepods/besteffort",
    ]

    /// The pod UID named by one directory entry of a parent directory, or nil
    /// for anything else (QoS slices, container scopes, kubelet's own files).
    public static func podUID(directoryName name: String) -> String? {
        if name.hasSuffix(".slice") {
            // kubepods-pod<uid_>.slice, kubepods-<qos>-pod<uid_>.slice
            let stem = String(name.dropLast(".slice".count))
            let levels = stem.split(separator: "-", omittingEmptySubsequences: false)
            guard let last = levels.last, last.hasPrefix("pod") else { return nil }
            let prefix = levels.dropLast().joined(separator: "-")
            guard prefix == "kubepods" || QoSClass.allCases.contains(where: { prefix == "kubepods-\($0.cgroupName)" })
            else { return nil }
            return validUID(String(last.dropFirst(3).map { $0 == "_" ? "-" : $0 }))
        }
        guard name.hasPrefix("pod") else { return nil }
        return validUID(String(name.dropFirst(3)))
    }

    /// A path relative to the cgroup2 mount -> the pod UID and the pod-level
    /// path, for a pod cgroup or anything below it (container scopes). nil for
    /// paths outside the kubelet's pod hierarchy.
    public static func podCgroup(containing relativePath: String) -> (uid: String, podPath: String)? {
        let parts = relativePath.split(separator: "/").map(String.init)
        for depth in [1, 2] where parts.count > depth {
            let parent = parts[0..<depth].joined(separator: "/")
            guard parentDirectories.contains(parent), let uid = podUID(directoryName: parts[depth]) else { continue }
            return (uid, parts[0...depth].joined(separator: "/"))
        }
        return nil
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
