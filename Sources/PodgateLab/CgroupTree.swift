#if canImport(Glibc)
import Glibc
#endif
import PodgateCgroups

/// The lab's cgroup chores on top of PodgateCgroups (which finds the mount and
/// moves processes): creating, joining, and killing and removing whole trees.
public enum CgroupTree {
    /// The cgroup2 mount point, from mountinfo (PodgateCgroups).
    public static func mountPoint() throws -> String {
        do { return try Cgroups.mountPoint() } catch {
            throw LabError("no cgroup2 file system is mounted (looked in /proc/self/mountinfo); podgate needs cgroup v2")
        }
    }

    public static func create(_ path: String) throws { try Files.makeDirectories(path) }

    /// Moves the calling process into the cgroup.
    public static func join(_ path: String) throws {
        do { try Cgroups.move(pid: getpid(), into: path) } catch {
            throw LabError("cannot join cgroup \(path): \(error)")
        }
    }

    /// A cgroup's ID (its directory's inode), as the BPF programs see it.
    public static func id(_ path: String) throws -> UInt64 {
        do { return try Cgroups.id(of: path).rawValue } catch { throw LabError("\(error)") }
    }

    public static func processes(_ path: String) -> [pid_t] {
        ((try? Files.read(path + "/cgroup.procs")) ?? "").split(separator: "\n").compactMap { pid_t($0) }
    }

    /// Every process in the subtree: only processes the caller placed there.
    public static func killAll(_ path: String) {
        guard Files.isDirectory(path) else { return }
        if (try? Files.writeControl(path + "/cgroup.kill", "1\n")) != nil { return }
        // Kernels before 5.14 lack cgroup.kill: walk the tree.
        for name in Files.list(path) where Files.isDirectory(path + "/" + name) { killAll(path + "/" + name) }
        for pid in processes(path) { kill(pid, SIGKILL) }
    }

    /// Removes a cgroup tree, children first; retries briefly while killed
    /// processes finish leaving. Returns what could not be removed.
    @discardableResult
    public static func removeTree(_ path: String, timeout: Double = 2) -> [String] {
        guard Files.isDirectory(path) else { return [] }
        var problems: [String] = []
        for name in Files.list(path) where Files.isDirectory(path + "/" + name) {
            problems += removeTree(path + "/" + name, timeout: timeout)
        }
        let deadline = Monotonic.seconds + timeout
        while rmdir(path) != 0 {
            if errno == ENOENT { return problems }
            guard errno == EBUSY, Monotonic.seconds < deadline else { return problems + ["rmdir \(path): \(errnoText())"] }
            usleep(10_000)
        }
        return problems
    }
}
