#if canImport(Glibc)
import Glibc
#endif
import PodgateModel

/// Whole subtrees: joining one, killing and removing what a run created,
/// and finding the processes of chosen cgroups below a root.
extension Cgroups {
    /// Moves the calling process into the cgroup.
    public static func join(_ path: String) throws {
        try move(pid: getpid(), into: path)
    }

    /// Kills every process in the subtree (callers own all of them).
    public static func killAll(_ path: String) {
        guard isDirectory(path) else { return }
        if (try? writeFile(path + "/cgroup.kill", "1\n", operation: "write cgroup.kill")) != nil { return }
        // Kernels before 5.14 lack cgroup.kill: walk the tree.
        for child in (try? childDirectories(of: path)) ?? [] { killAll(path + "/" + child) }
        for pid in (try? processes(in: path)) ?? [] { kill(pid, SIGKILL) }
    }

    /// Removes a cgroup tree, children first, retrying briefly while killed
    /// processes finish leaving. Returns what could not be removed.
    @discardableResult
    public static func removeTree(_ path: String, timeout: Double = 2) -> [String] {
        guard isDirectory(path) else { return [] }
        for child in (try? childDirectories(of: path)) ?? [] { removeTree(path + "/" + child, timeout: timeout) }
        let deadline = monotonicSeconds() + timeout
        while rmdir(path) != 0 {
            if errno == ENOENT { return [] }
            guard errno == EBUSY, monotonicSeconds() < deadline else {
                return ["rmdir \(path): \(String(cString: strerror(errno)))"]
            }
            usleep(10_000)
        }
        return []
    }

    /// The processes of the cgroups under `root` whose ID is in `cgroups`,
    /// and of everything below those, at most `maximumDepth` levels down.
    /// A process outside the reader's PID namespace is listed as 0.
    public static func processes(below root: String, in cgroups: Set<CgroupID>, maximumDepth: Int) -> [Int32] {
        processes(below: root, in: cgroups, inside: false, depth: 0, maximumDepth: maximumDepth)
    }

    private static func processes(below root: String, in cgroups: Set<CgroupID>, inside: Bool, depth: Int, maximumDepth: Int) -> [Int32] {
        guard depth <= maximumDepth, let id = try? id(of: root) else { return [] }
        let selected = inside || cgroups.contains(id)
        var found: [Int32] = selected ? ((try? processes(in: root)) ?? []) : []
        for child in (try? childDirectories(of: root)) ?? [] {
            found += processes(below: root + "/" + child, in: cgroups, inside: selected, depth: depth + 1, maximumDepth: maximumDepth)
        }
        return found
    }

    static func isDirectory(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && info.st_mode & S_IFMT == S_IFDIR
    }

    private static func monotonicSeconds() -> Double {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
    }
}
