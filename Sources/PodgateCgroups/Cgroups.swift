#if canImport(Glibc)
import Glibc
#endif
import PodgateModel

/// The cgroup v2 file system: find it, create and remove cgroups, move
/// processes, and read cgroup IDs (the inode numbers the BPF helpers return).
public enum Cgroups {
    /// The cgroup v2 mount point of this process's mount namespace.
    public static func mountPoint(mountinfoPath: String = "/proc/self/mountinfo") throws -> String {
        let text = try readFile(mountinfoPath, operation: "read mountinfo")
        guard let mount = MountInfo.cgroup2MountPoint(in: text) else {
            throw CgroupError(operation: "find cgroup2 mount", path: mountinfoPath, errno: 0,
                              reason: "no cgroup2 file system is mounted (cgroup v2 is required)")
        }
        return mount
    }

    /// The cgroup ID of a cgroup directory: its inode number.
    public static func id(of path: String) throws -> CgroupID {
        var info = stat()
        guard stat(path, &info) == 0 else { throw CgroupError(operation: "stat", path: path, errno: errno) }
        guard info.st_mode & S_IFMT == S_IFDIR else {
            throw CgroupError(operation: "stat", path: path, errno: ENOTDIR)
        }
        return CgroupID(UInt64(info.st_ino))
    }

    /// Creates the cgroup directory; an existing one is fine.
    public static func create(_ path: String) throws {
        guard mkdir(path, 0o755) == 0 || errno == EEXIST else {
            throw CgroupError(operation: "mkdir", path: path, errno: errno)
        }
    }

    /// Removes a cgroup and every cgroup below it, deepest first. Fails with
    /// EBUSY while a process is still inside one of them.
    public static func remove(_ path: String) throws {
        for child in try childDirectories(of: path) {
            try remove(path + "/" + child)
        }
        guard rmdir(path) == 0 || errno == ENOENT else {
            throw CgroupError(operation: "rmdir", path: path, errno: errno)
        }
    }

    /// Moves a process (all its threads) into the cgroup. Sockets it opens
    /// afterwards belong to that cgroup; sockets already open do not move.
    public static func move(pid: Int32, into path: String) throws {
        try writeFile(path + "/cgroup.procs", "\(pid)\n", operation: "write cgroup.procs")
    }

    /// PIDs currently in the cgroup itself (not its children).
    public static func processes(in path: String) throws -> [Int32] {
        try readFile(path + "/cgroup.procs", operation: "read cgroup.procs")
            .split(separator: "\n").compactMap { Int32($0) }
    }

    // MARK: - small file helpers

    static func childDirectories(of path: String) throws -> [String] {
        guard let directory = opendir(path) else {
            if errno == ENOENT { return [] }
            throw CgroupError(operation: "opendir", path: path, errno: errno)
        }
        defer { closedir(directory) }
        var names: [String] = []
        while let entry = readdir(directory) {
            guard entry.pointee.d_type == UInt8(DT_DIR) else { continue }
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    static func readFile(_ path: String, operation: String) throws -> String {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw CgroupError(operation: operation, path: path, errno: errno) }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16384)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw CgroupError(operation: operation, path: path, errno: errno)
            }
            if count == 0 { break }
            bytes.append(contentsOf: chunk[0..<count])
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    static func writeFile(_ path: String, _ text: String, operation: String) throws {
        let fd = open(path, O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { throw CgroupError(operation: operation, path: path, errno: errno) }
        defer { close(fd) }
        let bytes = Array(text.utf8)
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard written == bytes.count else {
            throw CgroupError(operation: operation, path: path, errno: written < 0 ? errno : EIO)
        }
    }
}
