#if canImport(Glibc)
import Glibc
#endif
import Foundation
import PodgateManifests
import PodgateModel

/// Reads the local-mode manifest directory, failing closed (policy-semantics.md,
/// "An error never widens access"):
/// - a file that cannot be read (a dangling symlink, a loop, a directory, a
///   FIFO, a file still open for writing, invalid YAML, an emptied file) keeps
///   its last good content, and the report names it; a new one is reported;
/// - a file is read only when no process holds it open for writing (a read
///   lease is refused while one does) and its size and times did not move
///   while it was read, so a half-written file is never enforced;
/// - a FIFO is never opened (stat first, then O_NONBLOCK and fstat);
/// - an unchanged file (same device, inode, size, mtime, ctime) is never read
///   or parsed again: only what changed costs anything;
/// - with `keepDirectory`, each file's last good content is also kept on disk,
///   so a file that is unreadable when a restarted agent first reads it still
///   keeps what it enforced.
struct WatchedManifests {
    let path: String
    let keepDirectory: String?
    static let generationFile = ".podgate-generation"
    private var cache: [String: Cached] = [:]
    /// Which file each enforced object came from (duplicates: the enforced one stays).
    private var owners: [ManifestKey: String] = [:]
    /// Files parsed since the start, for tests of "only what changed is read".
    private(set) var parses = 0

    private struct Cached {
        var stamp: FileStamp
        var decoded: DecodedFile
        /// False when the file was read within a clock tick of its last write:
        /// a same-size rewrite in that tick would leave the stamp unchanged, so
        /// it is read again next time (git's "racily clean" rule).
        var settled: Bool
    }

    init(path: String, keepDirectory: String? = nil) {
        self.path = path
        self.keepDirectory = keepDirectory
        _ = Self.leaseBreaksAreHarmless
        // Kept content from before a restart: used only while the file itself
        // cannot be read (its stamp never matches, so a readable file is read).
        guard let keepDirectory, let names = try? FileManager.default.contentsOfDirectory(atPath: keepDirectory) else { return }
        owners = Self.loadOwners(keepDirectory)
        for name in names where !name.hasPrefix(".") {
            guard let data = FileManager.default.contents(atPath: "\(keepDirectory)/\(name)") else { continue }
            let decoded = DecodedFile(ManifestFile(name: name, bytes: Array(data)))
            if decoded.parseError == nil { cache[name] = Cached(stamp: FileStamp.never, decoded: decoded, settled: false) }
        }
    }

    /// A writer opening the file during the microseconds a read lease is held
    /// makes the kernel send the lease holder SIGIO, whose default action ends
    /// the process: ignore it (nothing in the agent uses O_ASYNC).
    private static let leaseBreaksAreHarmless: Void = { _ = signal(SIGIO, SIG_IGN) }()

    struct Reading {
        var set: ManifestSet
        var problems: [Diagnostic]
        var generation: Int?
    }

    mutating func read(decoder: ManifestDecoder = ManifestDecoder()) throws -> Reading {
        // The generation is read before the listing: whoever writes the
        // directory writes it last, so it never claims content not yet read.
        let generationText = try? String(contentsOfFile: "\(path)/\(Self.generationFile)", encoding: .utf8)
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: path)
        } catch {
            throw AgentError.configuration("cannot read the manifest directory \(path): \(error.localizedDescription)")
        }
        var problems: [Diagnostic] = []
        var files: [DecodedFile] = []
        var seen = Set<String>()
        for name in names.sorted() {
            guard !name.hasPrefix("."), name.hasSuffix(".yaml") || name.hasSuffix(".yml") || name.hasSuffix(".json") else { continue }
            seen.insert(name)
            switch load(name, decoder: decoder) {
            case let .decoded(file):
                files.append(file)
            case let .unreadable(reason):
                let keeping = cache[name] != nil ? "keeping its last good content" : "nothing from it is enforced"
                problems.append(Diagnostic(object: name, field: "", message: "\(reason); \(keeping)"))
                if let last = cache[name] { files.append(last.decoded) }
            }
        }
        for name in cache.keys where !seen.contains(name) {
            cache[name] = nil
            if let keepDirectory { unlink("\(keepDirectory)/\(name)") }
        }
        let set = ManifestSet(decoded: files, owners: owners)
        if set.owners != owners, let keepDirectory { Self.saveOwners(set.owners, keepDirectory) }
        owners = set.owners
        return Reading(set: set, problems: problems,
                       generation: generationText.flatMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) })
    }

    /// Which file held each enforced object, kept beside the content so a
    /// restarted agent keeps the same one of two duplicates. One object a line:
    /// kind, namespace, name, file, tab-separated (none of them holds a tab).
    private static func loadOwners(_ directory: String) -> [ManifestKey: String] {
        guard let text = try? String(contentsOfFile: "\(directory)/.owners", encoding: .utf8) else { return [:] }
        var owners: [ManifestKey: String] = [:]
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            guard fields.count == 4 else { continue }
            owners[ManifestKey(kind: fields[0], namespace: fields[1], name: fields[2])] = fields[3]
        }
        return owners
    }

    private static func saveOwners(_ owners: [ManifestKey: String], _ directory: String) {
        let text = owners.sorted { $0.key < $1.key }
            .map { "\($0.key.kind)\t\($0.key.namespace)\t\($0.key.name)\t\($0.value)\n" }.joined()
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try? text.write(toFile: "\(directory)/.owners", atomically: true, encoding: .utf8)
    }

    private enum Outcome {
        case decoded(DecodedFile)
        case unreadable(String)
    }

    private mutating func load(_ name: String, decoder: ManifestDecoder) -> Outcome {
        let fullPath = "\(path)/\(name)"
        var info = stat()
        guard stat(fullPath, &info) == 0 else {
            let code = errno
            var link = stat()
            let dangling = code == ENOENT && lstat(fullPath, &link) == 0 && (link.st_mode & S_IFMT) == S_IFLNK
            if code == ELOOP { return .unreadable("cannot be read: a symlink loop") }
            if dangling { return .unreadable("cannot be read: a dangling symlink") }
            return .unreadable("cannot be read: \(String(cString: strerror(code)))")
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else { return .unreadable("is \(Self.kind(info.st_mode)), not a file") }
        let stamp = FileStamp(info)
        if let cached = cache[name], cached.settled, cached.stamp == stamp { return .decoded(cached.decoded) }

        let fd = open(fullPath, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY)
        guard fd >= 0 else { return .unreadable("cannot be read: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var opened = stat()
        guard fstat(fd, &opened) == 0, (opened.st_mode & S_IFMT) == S_IFREG else {
            return .unreadable("is \(Self.kind(opened.st_mode)), not a file")
        }
        if Self.isOpenForWriting(fd) { return .unreadable("is being written") }
        guard let bytes = Self.readAll(fd) else { return .unreadable("cannot be read: \(String(cString: strerror(errno)))") }
        var after = stat()
        guard fstat(fd, &after) == 0, FileStamp(after) == FileStamp(opened), bytes.count == Int(after.st_size),
              !Self.isOpenForWriting(fd) else {
            return .unreadable("is being written")
        }
        if bytes.isEmpty, cache[name]?.decoded.objects.isEmpty == false {
            // An emptied file is a rewrite in progress far more often than a
            // wish to remove everything in it (delete the file for that).
            return .unreadable("is empty (delete the file to remove its objects)")
        }
        parses += 1
        let decoded = DecodedFile(ManifestFile(name: name, bytes: bytes), decoder: decoder)
        if let problem = decoded.parseError {
            return .unreadable(problem.message)
        }
        cache[name] = Cached(stamp: FileStamp(after), decoded: decoded, settled: FileStamp(after).isSettled)
        if let keepDirectory {
            try? FileManager.default.createDirectory(atPath: keepDirectory, withIntermediateDirectories: true)
            try? Data(bytes).write(to: URL(fileURLWithPath: "\(keepDirectory)/\(name)"), options: .atomic)
        }
        return .decoded(decoded)
    }

    /// True while some process holds the file open for writing: the kernel
    /// refuses a read lease then (fcntl(2), F_SETLEASE). The lease is let go
    /// at once, so a writer is never made to wait. Where leases are not
    /// available (EINVAL on some filesystems), the size-and-times check alone applies.
    static func isOpenForWriting(_ fd: Int32) -> Bool {
        let setLease: Int32 = 1024, readLease: Int32 = 0, unlock: Int32 = 2   // F_SETLEASE, F_RDLCK, F_UNLCK
        guard fcntl(fd, setLease, readLease) == 0 else { return errno == EAGAIN }
        _ = fcntl(fd, setLease, unlock)
        return false
    }

    private static func readAll(_ fd: Int32) -> [UInt8]? {
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                return nil
            }
            if count == 0 { return bytes }
            bytes += chunk[0..<count]
        }
    }

    private static func kind(_ mode: mode_t) -> String {
        switch mode & S_IFMT {
        case S_IFDIR: "a directory"
        case S_IFIFO: "a FIFO"
        case S_IFSOCK: "a socket"
        case S_IFCHR, S_IFBLK: "a device"
        case S_IFLNK: "a symlink"
        default: "not a regular file"
        }
    }
}

/// What identifies one version of a file without reading it.
struct FileStamp: Equatable {
    var device: UInt64, inode: UInt64, size: Int64
    var modified: Int, modifiedNanos: Int, changed: Int, changedNanos: Int

    /// Matches no file (size -1): content kept from before a restart.
    static let never = FileStamp(device: 0, inode: 0, size: -1, modified: 0, modifiedNanos: 0, changed: 0, changedNanos: 0)

    init(device: UInt64, inode: UInt64, size: Int64, modified: Int, modifiedNanos: Int, changed: Int, changedNanos: Int) {
        (self.device, self.inode, self.size) = (device, inode, size)
        (self.modified, self.modifiedNanos, self.changed, self.changedNanos) = (modified, modifiedNanos, changed, changedNanos)
    }

    init(_ info: stat) {
        device = UInt64(info.st_dev)
        inode = UInt64(info.st_ino)
        size = Int64(info.st_size)
        modified = Int(info.st_mtim.tv_sec)
        modifiedNanos = Int(info.st_mtim.tv_nsec)
        changed = Int(info.st_ctim.tv_sec)
        changedNanos = Int(info.st_ctim.tv_nsec)
    }

    /// Last changed more than 100 ms ago (file times move in clock ticks of a few ms).
    var isSettled: Bool {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        let age = (Int(now.tv_sec) - changed) * 1_000_000_000 + (Int(now.tv_nsec) - changedNanos)
        return age > 100_000_000
    }
}
