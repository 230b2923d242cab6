#if canImport(Glibc)
import Glibc
#endif
import PodgateModel

/// The one file-reading convenience of this module: every `*.yaml`, `*.yml`
/// and `*.json` file directly inside a directory (no recursion, hidden files
/// skipped), as `ManifestFile`s named by file name.
public enum ManifestDirectory {
    public struct ReadError: Error, Hashable, Sendable, CustomStringConvertible {
        public var path: String
        public var errno: Int32
        public var description: String { "\(path): \(String(cString: strerror(errno)))" }
    }

    public static func readFiles(at path: String) throws(ReadError) -> [ManifestFile] {
        guard let directory = opendir(path) else { throw ReadError(path: path, errno: errno) }
        defer { closedir(directory) }
        var names: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            let isManifest = name.hasSuffix(".yaml") || name.hasSuffix(".yml") || name.hasSuffix(".json")
            if !name.hasPrefix("."), isManifest { names.append(name) }
        }
        var files: [ManifestFile] = []
        for name in names.sorted() {
            files.append(ManifestFile(name: name, bytes: try readBytes(at: "\(path)/\(name)")))
        }
        return files
    }

    /// Reads and loads a directory in one call.
    public static func load(_ path: String, limits: YAMLLimits = YAMLLimits()) throws(ReadError) -> ManifestSet {
        ManifestSet(files: try readFiles(at: path), limits: limits)
    }

    static func readBytes(at path: String) throws(ReadError) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw ReadError(path: path, errno: errno) }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw ReadError(path: path, errno: errno)
            }
            if count == 0 { break }
            bytes += chunk[0..<count]
        }
        return bytes
    }
}
