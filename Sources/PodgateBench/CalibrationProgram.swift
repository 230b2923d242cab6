import CLibbpf
#if canImport(Glibc)
import Glibc
#endif

/// The benchmark's known cost: a cgroup_skb/ingress program on the server's
/// cgroup that counts a register down from `iterations` to 0 and allows the
/// packet. The loop is bounded (the verifier walks it once per iteration, so
/// `iterations` stays far below its million-instruction limit), and
/// kernel.bpf_stats_enabled measures what it really costs per run.
final class CalibrationProgram {
    static let maxIterations = 300_000
    let iterations: Int
    let programFD: Int32
    let linkFD: Int32

    init(iterations: Int, attachingTo cgroupPath: String) throws {
        self.iterations = max(1, min(iterations, Self.maxIterations))
        let n = UInt32(self.iterations).littleEndianBytes
        // r1 = N; loop: r1 += -1; if r1 != 0 goto loop; r0 = 1; exit
        let code: [UInt8] = [0xb7, 0x01, 0, 0, n[0], n[1], n[2], n[3],
                             0x07, 0x01, 0, 0, 0xff, 0xff, 0xff, 0xff,
                             0x55, 0x01, 0xfe, 0xff, 0, 0, 0, 0,
                             0xb7, 0x00, 0, 0, 1, 0, 0, 0,
                             0x95, 0x00, 0, 0, 0, 0, 0, 0]
        let fd = code.withUnsafeBytes { raw in
            raw.withMemoryRebound(to: bpf_insn.self) { insns in
                bpf_prog_load(BPF_PROG_TYPE_CGROUP_SKB, "pgb_calibrate", "GPL", insns.baseAddress, insns.count, nil)
            }
        }
        guard fd >= 0 else { throw BenchError("load the calibration program (\(self.iterations) iterations): \(errnoText(-fd))") }
        let cgroup = open(cgroupPath, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard cgroup >= 0 else { close(fd); throw BenchError("open \(cgroupPath): \(errnoText())") }
        defer { close(cgroup) }
        let link = bpf_link_create(fd, cgroup, BPF_CGROUP_INET_INGRESS, nil)
        guard link >= 0 else { close(fd); throw BenchError("attach the calibration program: \(errnoText(-link))") }
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

extension UInt32 {
    var littleEndianBytes: [UInt8] { (0..<4).map { UInt8((self >> (8 * $0)) & 0xff) } }
}
