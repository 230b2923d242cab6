#if canImport(Glibc)
import Glibc
#endif

/// The few file operations the simulator needs, without Foundation.
enum Files {
    static func read(_ path: String) throws -> String {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw SimError("cannot read \(path): \(errnoText())") }
        defer { close(fd) }
        return Processes.readAll(fd)
    }

    /// Writes through a temporary file and rename, so readers see old or new, never half.
    static func write(_ path: String, _ text: String, atomically: Bool = true) throws {
        let target = atomically ? path + ".tmp" : path
        let fd = open(target, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw SimError("cannot write \(target): \(errnoText())") }
        let ok = writeAll(fd, Array(text.utf8))
        close(fd)
        guard ok else { throw SimError("cannot write \(target): \(errnoText())") }
        if atomically, rename(target, path) != 0 { throw SimError("cannot rename \(target) to \(path): \(errnoText())") }
    }

    static func append(_ path: String, _ text: String) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw SimError("cannot write \(path): \(errnoText())") }
        defer { close(fd) }
        guard writeAll(fd, Array(text.utf8)) else { throw SimError("cannot write \(path): \(errnoText())") }
    }

    static func writeAll(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if n < 0 { if errno == EINTR { continue }; return false }
            offset += n
        }
        return true
    }

    static func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }

    static func makeDirectories(_ path: String, mode: mode_t = 0o755) throws {
        var prefix = ""
        for part in path.split(separator: "/") {
            prefix += "/" + part
            if mkdir(prefix, mode) != 0 && errno != EEXIST {
                throw SimError("cannot create \(prefix): \(errnoText())")
            }
        }
    }

    static func list(_ path: String) -> [String] {
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

    static func isDirectory(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }

    /// rm -rf, not following symlinks. Errors are collected, not thrown: cleanup goes on.
    @discardableResult
    static func removeTree(_ path: String) -> [String] {
        var problems: [String] = []
        if isDirectory(path) {
            for name in list(path) { problems += removeTree(path + "/" + name) }
            if rmdir(path) != 0 && errno != ENOENT { problems.append("rmdir \(path): \(errnoText())") }
        } else if unlink(path) != 0 && errno != ENOENT {
            problems.append("unlink \(path): \(errnoText())")
        }
        return problems
    }

    static func standardError(_ text: String) { _ = writeAll(2, Array(text.utf8)) }
    static func standardOutput(_ text: String) { _ = writeAll(1, Array(text.utf8)) }
}
