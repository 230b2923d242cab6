import CLibbpf
import CPodgateABI
import CPodgateSys
import PodgateBPFObjects
import PodgateModel
#if canImport(Glibc)
import Glibc
#endif


/// Closes the open connections that the maps now refuse (bpf/revoke.bpf.c):
/// one run of the TCP and UDP socket iterators per network namespace, after
/// each applied change. The iterators judge each socket with the datapath's
/// own decision against the live maps and destroy exactly the refused ones.
///
/// Sendable: the object and links are created in init and only read after;
/// `run` is called by the agent's one reconcile loop.
public final class SocketRevoker: @unchecked Sendable {
    public static let objectName = "revoke"

    /// Why revocation cannot work on this kernel, or nil when it can (judged
    /// before loading, so `status` can say which piece is missing).
    public static func kernelProblem(btfPath: String = "/sys/kernel/btf/vmlinux") -> String? {
        var name = utsname()
        uname(&name)
        let release = withUnsafeBytes(of: name.release) { String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self) }
        let fd = open(btfPath, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return "the kernel (\(release)) exposes no BTF at \(btfPath), which the socket iterators need" }
        defer { close(fd) }
        // The kfunc's name is in the kernel's BTF string table iff the kernel has it.
        let needle = Array("bpf_sock_destroy\0".utf8)
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        var carry: [UInt8] = []
        while true {
            let count = read(fd, &buffer, buffer.count)
            guard count > 0 else { break }
            let chunk = carry + buffer[0..<count]
            if Self.contains(chunk, needle) { return nil }
            carry = Array(chunk.suffix(needle.count - 1))
        }
        return "the kernel (\(release)) has no bpf_sock_destroy() (Linux 6.5 or later is needed to close sockets)"
    }

    private static func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        haystack.withUnsafeBytes { h in
            needle.withUnsafeBytes { n in podgate_sys_memmem(h.baseAddress, h.count, n.baseAddress, n.count) != nil }
        }
    }

    private let maps: DatapathMaps        // keeps the shared map descriptors open
    private let object: OpaquePointer
    private let links: [(name: String, link: OpaquePointer)]
    private let passFD: Int32
    private var walk: UInt64 = 0

    /// Loads the iterators onto the datapath's maps (the same descriptors,
    /// so they judge by exactly what the enforcement programs read).
    public init(maps: DatapathMaps, logger: DatapathLogger? = nil) throws {
        if let logger { LibbpfLog.install(logger) }
        guard let bytes = BPFObjects.object(named: Self.objectName) else {
            throw DatapathError(operation: "find embedded object", object: Self.objectName, errno: 0,
                                detail: "the build embedded no \(Self.objectName).bpf.o")
        }
        // libbpf reads the ELF in place until load finishes: keep the bytes alive.
        let (object, links) = try bytes.withUnsafeBytes { raw in try Self.load(raw, maps: maps) }
        self.maps = maps
        self.object = object
        self.links = links
        passFD = bpf_map__fd(bpf_object__find_map_by_name(object, PODGATE_MAP_REVOKE_PASS))
    }

    private static func load(_ raw: UnsafeRawBufferPointer, maps: DatapathMaps) throws -> (OpaquePointer, [(name: String, link: OpaquePointer)]) {
        guard let object = bpf_object__open_mem(raw.baseAddress, raw.count, nil) else {
            throw DatapathError.fromErrno("open", objectName + ".bpf.o")
        }
        var links: [(name: String, link: OpaquePointer)] = []
        do {
            try ObjectMaps.each(object) { map, name in
                if let fd = maps.descriptor(named: name) {
                    try DatapathError.check(bpf_map__reuse_fd(map, fd), "reuse map", name)
                }
            }
            let loaded = bpf_object__load(object)
            if loaded < 0 {
                throw DatapathError(operation: "load", object: objectName + ".bpf.o", errno: -loaded,
                                    detail: "the kernel refused the socket iterators: " + DatapathError.text(-loaded))
            }
            var program = bpf_object__next_program(object, nil)
            while let current = program {
                let name = String(cString: bpf_program__name(current))
                guard let link = bpf_program__attach_iter(current, nil) else {
                    throw DatapathError.fromErrno("attach iterator", name)
                }
                links.append((name, link))
                program = bpf_object__next_program(object, current)
            }
        } catch {
            links.forEach { bpf_link__destroy($0.link) }
            bpf_object__close(object)
            throw error
        }
        return (object, links)
    }

    deinit {
        links.forEach { bpf_link__destroy($0.link) }
        bpf_object__close(object)
    }

    /// What one pass closed, and what it could not look at.
    public struct Pass: Sendable {
        public var revoked: [DatapathEvent] = []
        public var problems: [String] = []
        public init(revoked: [DatapathEvent] = [], problems: [String] = []) {
            self.revoked = revoked
            self.problems = problems
        }
    }

    /// Runs the iterators in each network namespace (paths such as
    /// /proc/PID/ns/net). An iterator walks the namespace current when it is
    /// created, so each is created inside it (setns on this thread only, and
    /// back before returning) and read afterwards.
    public func run(inNetworkNamespaces namespaces: [String]) -> Pass {
        var pass = Pass()
        let home = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC)
        guard home >= 0 else {
            pass.problems.append("open /proc/thread-self/ns/net: \(String(cString: strerror(errno)))")
            return pass
        }
        defer { close(home) }
        for namespace in namespaces {
            let target = open(namespace, O_RDONLY | O_CLOEXEC)
            guard target >= 0 else {
                // The pod's process exited meanwhile: its sockets are gone with it.
                if errno != ENOENT && errno != ESRCH { pass.problems.append("open \(namespace): \(String(cString: strerror(errno)))") }
                continue
            }
            var iterators: [(String, Int32)] = []
            if podgate_sys_enter_netns(target) == 0 {
                for (name, link) in links {
                    let fd = bpf_iter_create(bpf_link__fd(link))
                    if fd >= 0 { iterators.append((name, fd)) } else { pass.problems.append("create \(name) in \(namespace): \(DatapathError.text(-fd))") }
                }
                // Never leave this thread in a pod's namespace.
                if podgate_sys_enter_netns(home) != 0 { fatalError("cannot return to the agent's network namespace: \(String(cString: strerror(errno)))") }
            } else {
                pass.problems.append("setns \(namespace): \(String(cString: strerror(errno)))")
            }
            close(target)
            // A new walk number: listeners seen in other namespaces do not count here.
            walk += 1
            var zero: UInt32 = 0
            let set = bpf_map_update_elem(passFD, &zero, &walk, UInt64(BPF_ANY))
            if set < 0 { pass.problems.append("set the walk number: \(DatapathError.text(-set))") }
            for (name, fd) in iterators {
                do { pass.revoked += try Self.readEvents(fd) } catch { pass.problems.append("read \(name) in \(namespace): \(error)") }
                close(fd)
            }
        }
        return pass
    }

    /// The records an iterator wrote: one struct podgate_event per closed socket.
    static func readEvents(_ fd: Int32) throws -> [DatapathEvent] {
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 16 * 1024)
        while true {
            let count = read(fd, &buffer, buffer.count)
            if count == 0 { break }
            if count < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                throw DatapathError.fromErrno("read", "socket iterator")
            }
            bytes += buffer[0..<count]
        }
        let size = MemoryLayout<podgate_event>.size
        return try stride(from: 0, to: bytes.count - size + 1, by: size).map { offset in
            try bytes.withUnsafeBytes { raw in
                try DatapathEvent(raw.loadUnaligned(fromByteOffset: offset, as: podgate_event.self))
            }
        }
    }
}
