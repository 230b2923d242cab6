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
        do { try Cgroups.move(pid: getpid(), into: path) } catch {
            throw SimError("cannot join cgroup \(path): \(error)")
        }
    }

    static func processes(_ path: String) -> [pid_t] {
        ((try? Files.read(path + "/cgroup.procs")) ?? "").split(separator: "\n").compactMap { pid_t($0) }
    }

    /// Every process in the subtree: only processes this run placed there.
    static func killAll(_ path: String) {
        guard Files.isDirectory(path) else { return }
        if (try? Files.write(path + "/cgroup.kill", "1\n", atomically: false)) != nil { return }
        // Kernels before 5.14 lack cgroup.kill: walk the tree.
        for name in Files.list(path) where Files.isDirectory(path + "/" + name) { killAll(path + "/" + name) }
        for pid in processes(path) { kill(pid, SIGKILL) }
    }

    /// Removes a cgroup tree, children first; retries briefly while killed
    /// processes finish leaving. Returns what could not be removed.
    @discardableResult
    static func removeTree(_ path: String, timeout: Double = 2) -> [String] {
        guard Files.isDirectory(path) else { return [] }
        for name in Files.list(path) where Files.isDirectory(path + "/" + name) {
            removeTree(path + "/" + name, timeout: timeout)
        }
        let deadline = Clock.now + timeout
        while rmdir(path) != 0 {
            if errno == ENOENT { return [] }
            guard errno == EBUSY, Clock.now < deadline else { return ["rmdir \(path): \(errnoText())"] }
            usleep(10_000)
        }
        return []
    }
}
