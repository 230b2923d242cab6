#if canImport(Glibc)
import Glibc
#endif
import PodgateModel

/// The network namespaces holding sockets of local pods: those of the
/// processes in the registered pod cgroups (and their sub-cgroups). A socket
/// iterator walks one namespace, so revocation runs once per namespace here.
enum PodNetworkNamespaces {
    /// One /proc/PID/ns/net path per distinct namespace, for the cgroups
    /// under `root` whose ID is in `cgroups`; and how many of their
    /// processes this agent cannot see (a cgroup lists a process outside the
    /// reader's PID namespace as 0: the agent then lacks the host's PIDs).
    static func find(root: String, cgroups: Set<CgroupID>) -> (paths: [String], invisible: Int) {
        var seen = Set<[UInt64]>()
        var paths: [String] = []
        let pids = processes(root: root, cgroups: cgroups, inside: false, depth: 0)
        for pid in pids where pid > 0 {
            let path = "/proc/\(pid)/ns/net"
            var info = stat()
            guard stat(path, &info) == 0 else { continue }  // exited meanwhile
            if seen.insert([UInt64(info.st_dev), UInt64(info.st_ino)]).inserted { paths.append(path) }
        }
        return (paths, pids.filter { $0 <= 0 }.count)
    }

    /// Deeper than any kubelet layout below the cgroup root.
    static let maximumDepth = 12

    private static func processes(root: String, cgroups: Set<CgroupID>, inside: Bool, depth: Int) -> [Int32] {
        var info = stat()
        guard depth <= maximumDepth, stat(root, &info) == 0 else { return [] }
        let selected = inside || cgroups.contains(CgroupID(UInt64(info.st_ino)))
        var found: [Int32] = []
        if selected, let text = readSmallFile(root + "/cgroup.procs") {
            found += text.split(separator: "\n").compactMap { Int32($0) }
        }
        guard let directory = opendir(root) else { return found }
        defer { closedir(directory) }
        while let entry = readdir(directory) {
            guard entry.pointee.d_type == UInt8(DT_DIR) else { continue }
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self) }
            if name == "." || name == ".." { continue }
            found += processes(root: root + "/" + name, cgroups: cgroups, inside: selected, depth: depth + 1)
        }
        return found
    }

    private static func readSmallFile(_ path: String) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = read(fd, &buffer, buffer.count)
            guard count > 0 else { break }
            bytes += buffer[0..<count]
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
