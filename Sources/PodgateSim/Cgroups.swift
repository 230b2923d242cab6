#if canImport(Glibc)
import Glibc
#endif

/// The few cgroup v2 operations the simulator needs (PodgateCgroups will own these).
enum SimCgroups {
    /// The cgroup2 mount point from /proc/self/mountinfo: /sys/fs/cgroup on a
    /// unified host, /sys/fs/cgroup/unified on a hybrid one.
    static func mountPoint(mountinfo: String? = nil) throws -> String {
        let text = try mountinfo ?? Files.read("/proc/self/mountinfo")
        for line in text.split(separator: "\n") {
            let halves = line.components(separatedByString: " - ")
            guard halves.count == 2 else { continue }
            let fields = halves[0].split(separator: " ")
            let tail = halves[1].split(separator: " ")
            if tail.first == "cgroup2", fields.count >= 5 { return unescape(String(fields[4])) }
        }
        throw SimError("no cgroup2 file system is mounted (looked in /proc/self/mountinfo); the agent needs cgroup v2")
    }

    /// mountinfo escapes space, tab, newline and backslash as \ooo.
    static func unescape(_ text: String) -> String {
        var out: [UInt8] = []
        let bytes = Array(text.utf8)
        var i = 0
        while i < bytes.count {
            if bytes[i] == UInt8(ascii: "\\"), i + 3 < bytes.count,
               let value = UInt8(String(decoding: bytes[(i + 1)...(i + 3)], as: UTF8.self), radix: 8) {
                out.append(value)
                i += 4
            } else {
                out.append(bytes[i])
                i += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func create(_ path: String) throws { try Files.makeDirectories(path) }

    /// Moves process `pid` (0: the caller) into the cgroup.
    static func join(_ path: String, pid: pid_t = 0) throws {
        let target = pid == 0 ? getpid() : pid
        do { try Files.write(path + "/cgroup.procs", "\(target)\n", atomically: false) } catch {
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

extension Substring {
    func components(separatedByString separator: String) -> [Substring] {
        split(separator: separator, omittingEmptySubsequences: false)
    }
}
