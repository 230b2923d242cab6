import CLibbpf
#if canImport(Glibc)
import Glibc
#endif

/// The floor of `run_time_ns / run_cnt`: an empty cgroup_skb program
/// (`r0 = 1; exit`) attached to the server's cgroup. kernel.bpf_stats_enabled
/// times each run with sched_clock(), and that timing is part of every
/// program's figure; subtracting this floor gives the program's own work.
final class EmptyProgram {
    let programFD: Int32
    let linkFD: Int32

    init(attachingTo cgroupPath: String) throws {
        // mov64 r0, 1 ; exit
        let code: [UInt8] = [0xb7, 0x00, 0, 0, 1, 0, 0, 0,
                             0x95, 0x00, 0, 0, 0, 0, 0, 0]
        let fd = code.withUnsafeBytes { raw in
            raw.withMemoryRebound(to: bpf_insn.self) { insns in
                bpf_prog_load(BPF_PROG_TYPE_CGROUP_SKB, "pgb_empty", "GPL", insns.baseAddress, 2, nil)
            }
        }
        guard fd >= 0 else { throw BenchError("load the empty program: \(errnoText(-fd))") }
        let cgroup = open(cgroupPath, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard cgroup >= 0 else { close(fd); throw BenchError("open \(cgroupPath): \(errnoText())") }
        defer { close(cgroup) }
        let link = bpf_link_create(fd, cgroup, BPF_CGROUP_INET_INGRESS, nil)
        guard link >= 0 else { close(fd); throw BenchError("attach the empty program: \(errnoText(-link))") }
        programFD = fd
        linkFD = link
    }

    /// (run_time_ns, run_cnt) so far.
    func stats() -> (runTime: UInt64, runs: UInt64) {
        var info = bpf_prog_info()
        var length = UInt32(MemoryLayout<bpf_prog_info>.size)
        guard bpf_obj_get_info_by_fd(programFD, &info, &length) == 0 else { return (0, 0) }
        return (info.run_time_ns, info.run_cnt)
    }

    /// Detaches (the link is not pinned: closing it detaches).
    func remove() {
        close(linkFD)
        close(programFD)
    }
}
