import PodgateLab
import CLibbpf
#if canImport(Glibc)
import Glibc
#endif

/// A few hand-assembled instructions loaded as a cgroup_skb/ingress program
/// and attached to one cgroup through an unpinned link (closing it detaches).
/// The bench's reference programs (EmptyProgram, CalibrationProgram) are this
/// with their own code; kernel.bpf_stats_enabled times every run.
final class IngressProgram {
    let programFD: Int32
    let linkFD: Int32

    /// `what` names the program in errors ("the empty program").
    init(name: String, code: [UInt8], attachingTo cgroupPath: String, what: String) throws {
        let fd = code.withUnsafeBytes { raw in
            raw.withMemoryRebound(to: bpf_insn.self) { insns in
                bpf_prog_load(BPF_PROG_TYPE_CGROUP_SKB, name, "GPL", insns.baseAddress, insns.count, nil)
            }
        }
        guard fd >= 0 else { throw LabError("load \(what): \(errnoText(-fd))") }
        let cgroup = open(cgroupPath, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard cgroup >= 0 else { close(fd); throw LabError("open \(cgroupPath): \(errnoText())") }
        defer { close(cgroup) }
        let link = bpf_link_create(fd, cgroup, BPF_CGROUP_INET_INGRESS, nil)
        guard link >= 0 else { close(fd); throw LabError("attach \(what): \(errnoText(-link))") }
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

    func remove() {
        close(linkFD)
        close(programFD)
    }
}
