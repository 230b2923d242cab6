#if canImport(Glibc)
import Glibc
#endif

/// The file operations the lab needs, without Foundation.
public enum Files {
    public static func read(_ path: String) throws -> String {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw LabError("cannot read \(path): \(errnoText())") }
        defer { close(fd) }
        return Processes.readAll(fd)
    }

    /// Writes through a temporary file and rename, so readers (and inotify
    /// watchers) see old or new, never half.
    public static func write(_ path: String, _ text: String, atomically: Bool = true) throws {
        let target = atomically ? path + ".tmp" : path
        let fd = open(target, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw LabError("cannot write \(target): \(errnoText())") }
        let ok = writeAll(fd, Array(text.utf8))
        close(fd)
        guard ok else { throw LabError("cannot write \(target): \(errnoText())") }
        if atomically, rename(target, path) != 0 { throw LabError("cannot rename \(target) to \(path): \(errnoText())") }
    }

    /// For control files (cgroup, /proc/sys): no O_CREAT or O_TRUNC, and the
    /// kernel's answer to the one write is the error.
    public static func writeControl(_ path: String, _ text: String) throws {
        let fd = open(path, O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { throw LabError("cannot open \(path): \(errnoText())") }
        defer { close(fd) }
        let bytes = Array(text.utf8)
        guard Glibc.write(fd, bytes, bytes.count) == bytes.count else { throw LabError("cannot write \(path): \(errnoText())") }
    }

    public static func append(_ path: String, _ text: String) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw LabError("cannot write \(path): \(errnoText())") }
        defer { close(fd) }
        guard writeAll(fd, Array(text.utf8)) else { throw LabError("cannot write \(path): \(errnoText())") }
    }

    @discardableResult
    public static func writeAll(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if n < 0 { if errno == EINTR { continue }; return false }
            offset += n
        }
        return true
    }

    public static func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }

    public static func makeDirectories(_ path: String, mode: mode_t = 0o755) throws {
        var prefix = ""
        for part in path.split(separator: "/") {
            prefix += "/" + part
            if mkdir(prefix, mode) != 0 && errno != EEXIST {
                throw LabError("cannot create \(prefix): \(errnoText())")
            }
        }
    }

    /// The names in a directory, sorted; none if it cannot be read.
    public static func list(_ path: String) -> [String] {
        guard let dir = opendir(path) else { return [] }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }

    public static func isDirectory(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }

    /// rm -rf, not following symlinks. Errors are collected, not thrown: cleanup goes on.
    @discardableResult
    public static func removeTree(_ path: String) -> [String] {
        var problems: [String] = []
        if isDirectory(path) {
            for name in list(path) { problems += removeTree(path + "/" + name) }
            if rmdir(path) != 0 && errno != ENOENT { problems.append("rmdir \(path): \(errnoText())") }
        } else if unlink(path) != 0 && errno != ENOENT {
            problems.append("unlink \(path): \(errnoText())")
        }
        return problems
    }

    /// The first executable named `name` on PATH (or the sbin directories), nil if none.
    public static func which(_ name: String) -> String? {
        let path = (getenv("PATH").map { String(cString: $0) } ?? "") + ":/usr/sbin:/sbin:/usr/bin:/bin"
        for dir in path.split(separator: ":") where access("\(dir)/\(name)", X_OK) == 0 { return "\(dir)/\(name)" }
        return nil
    }

    /// This process's own executable (the in-pod helper is a subcommand of it).
    public static func ownExecutable() -> String {
        var buffer = [CChar](repeating: 0, count: 4096)
        let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard n > 0 else { return CommandLine.arguments[0] }
        return String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    public static func standardError(_ text: String) { writeAll(2, Array(text.utf8)) }
    public static func standardOutput(_ text: String) { writeAll(1, Array(text.utf8)) }
}
