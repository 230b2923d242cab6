#if canImport(Glibc)
import Glibc
#endif
import PodgateCgroups

/// The lab's view of PodgateCgroups (which holds the cgroup knowledge: the
/// mount, joining, killing and removing subtrees), with errors that say what
/// the lab was doing.
public enum CgroupTree {
    /// The cgroup2 mount point, from mountinfo.
    public static func mountPoint() throws -> String {
        do { return try Cgroups.mountPoint() } catch {
            throw LabError("no cgroup2 file system is mounted (looked in /proc/self/mountinfo); podgate needs cgroup v2")
        }
    }

    public static func create(_ path: String) throws { try Files.makeDirectories(path) }

    /// Moves the calling process into the cgroup.
    public static func join(_ path: String) throws {
        do { try Cgroups.join(path) } catch { throw LabError("cannot join cgroup \(path): \(error)") }
    }

    /// A cgroup's ID (its directory's inode), as the BPF programs see it.
    public static func id(_ path: String) throws -> UInt64 {
        do { return try Cgroups.id(of: path).rawValue } catch { throw LabError("\(error)") }
    }

    /// Every process in the subtree: only processes the caller placed there.
    public static func killAll(_ path: String) { Cgroups.killAll(path) }

    /// Removes a cgroup tree, children first, waiting up to `timeout` for killed
    /// processes to leave. Returns what could not be removed.
    @discardableResult
    public static func removeTree(_ path: String, timeout: Double = 2) -> [String] { Cgroups.removeTree(path, timeout: timeout) }
}
