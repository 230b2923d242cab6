import CLibbpf
#if canImport(Glibc)
import Glibc
#endif

/// Checks made before loading, each failing with one sentence that says
/// what is missing, instead of a libbpf or verifier dump.
public enum Preflight {
    static let bpfFileSystemMagic: Int = 0xCAFE_4A11
    static let cgroup2FileSystemMagic: Int = 0x6367_7270

    public static func check(pinDirectory: String, cgroupPath: String) throws {
        try checkPrivileges()
        try checkBPFFileSystem(pinDirectory)
        try checkCgroup2(cgroupPath)
        try checkKernelHooks()
    }

    static func fail(_ object: String, _ sentence: String, errno: Int32 = 0) -> DatapathError {
        DatapathError(operation: "preflight", object: object, errno: errno, detail: sentence)
    }

    /// Loading cgroup programs needs CAP_BPF (or CAP_SYS_ADMIN); attaching
    /// them needs CAP_NET_ADMIN (or CAP_SYS_ADMIN).
    static func checkPrivileges() throws {
        let capSysAdmin: UInt64 = 1 << 21, capNetAdmin: UInt64 = 1 << 12, capBPF: UInt64 = 1 << 39
        let effective = effectiveCapabilities() ?? (geteuid() == 0 ? ~0 : 0)
        let canLoad = effective & (capBPF | capSysAdmin) != 0
        let canAttach = effective & (capNetAdmin | capSysAdmin) != 0
        guard canLoad && canAttach else {
            throw fail("process", "podgate must run as root or with CAP_BPF and CAP_NET_ADMIN to load and attach its programs",
                       errno: EPERM)
        }
    }

    static func effectiveCapabilities() -> UInt64? {
        guard let status = try? readText("/proc/self/status") else { return nil }
        for line in status.split(separator: "\n") where line.hasPrefix("CapEff:") {
            return UInt64(line.dropFirst("CapEff:".count).trimmingPrefix(while: { $0 == "\t" || $0 == " " }), radix: 16)
        }
        return nil
    }

    static func checkBPFFileSystem(_ pinDirectory: String) throws {
        // The pin directory may not exist yet: its parent must then be on bpffs.
        var path = pinDirectory
        var info = statfs()
        while statfs(path, &info) != 0 {
            guard errno == ENOENT, let slash = path.lastIndex(of: "/"), slash != path.startIndex else {
                throw fail(pinDirectory, "cannot inspect the pin directory's file system", errno: errno)
            }
            path = String(path[..<slash])
        }
        guard Int(info.f_type) == bpfFileSystemMagic else {
            throw fail(pinDirectory, "the BPF file system is not mounted at \(path) (mount -t bpf bpf /sys/fs/bpf)")
        }
    }

    static func checkCgroup2(_ cgroupPath: String) throws {
        var info = statfs()
        guard statfs(cgroupPath, &info) == 0 else {
            throw fail(cgroupPath, "the cgroup directory to attach to does not exist", errno: errno)
        }
        guard Int(info.f_type) == cgroup2FileSystemMagic else {
            throw fail(cgroupPath, "this is not a cgroup v2 directory (podgate needs the cgroup2 file system)")
        }
    }

    static func checkKernelHooks() throws {
        let programs: [(bpf_prog_type, String)] = [
            (BPF_PROG_TYPE_CGROUP_SOCK_ADDR, "cgroup connect/sendmsg hooks"),
            (BPF_PROG_TYPE_CGROUP_SKB, "cgroup ingress packet hooks"),
        ]
        for (type, name) in programs where libbpf_probe_bpf_prog_type(type, nil) != 1 {
            throw fail("kernel", "this kernel lacks \(name) for BPF programs (Linux 5.8 or newer is required)")
        }
        let maps: [(bpf_map_type, String)] = [
            (BPF_MAP_TYPE_RINGBUF, "BPF ring buffers"), (BPF_MAP_TYPE_LPM_TRIE, "BPF LPM tries"),
        ]
        for (type, name) in maps where libbpf_probe_bpf_map_type(type, nil) != 1 {
            throw fail("kernel", "this kernel lacks \(name) (Linux 5.8 or newer is required)")
        }
    }
}

/// Reads a small text file (procfs, sysfs) without Foundation.
func readText(_ path: String) throws -> String {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { throw DatapathError.fromErrno("open", path) }
    defer { close(fd) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 8192)
    while true {
        let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if count < 0 && errno == EINTR { continue }
        guard count >= 0 else { throw DatapathError.fromErrno("read", path) }
        if count == 0 { break }
        bytes += chunk[0..<count]
    }
    return String(decoding: bytes, as: UTF8.self)
}
