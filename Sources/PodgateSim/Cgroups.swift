#if canImport(Glibc)
import Glibc
#endif
import PodgateCgroups

/// The simulator's cgroup chores on top of PodgateCgroups: joining as a
/// helper process, and killing and removing a whole run's tree.
enum SimCgroups {
    /// The cgroup2 mount point, from mountinfo (PodgateCgroups).
    static func mountPoint() throws -> String {
        do { return try Cgroups.mountPoint() } catch {
            throw SimError("no cgroup2 file system is mounted (looked in /proc/self/mountinfo); the agent needs cgroup v2")
        }
    }

    static func create(_ path: String) throws { try Files.makeDirectories(path) }

    /// Moves the calling process into the cgroup.
    static func join(_ path: String) throws {
        do { try Cgroups.join(path) } catch {
            throw SimError("cannot join cgroup \(path): \(error)")
        }
    }

    /// Every process in the subtree: only processes this run placed there.
    static func killAll(_ path: String) { Cgroups.killAll(path) }

    /// Removes a cgroup tree, children first; returns what could not be removed.
    @discardableResult
    static func removeTree(_ path: String, timeout: Double = 2) -> [String] { Cgroups.removeTree(path, timeout: timeout) }
}
