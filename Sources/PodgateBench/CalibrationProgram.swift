/// The benchmark's known cost: a cgroup_skb/ingress program on the server's
/// cgroup that counts a register down from `iterations` to 0 and allows the
/// packet. The loop is bounded (the verifier walks it once per iteration, so
/// `iterations` stays far below its million-instruction limit), and
/// kernel.bpf_stats_enabled measures what it really costs per run.
final class CalibrationProgram {
    static let maxIterations = 300_000
    let iterations: Int
    private let program: IngressProgram

    init(iterations: Int, attachingTo cgroupPath: String) throws {
        self.iterations = max(1, min(iterations, Self.maxIterations))
        let n = UInt32(self.iterations).littleEndianBytes
        // r1 = N; loop: r1 += -1; if r1 != 0 goto loop; r0 = 1; exit
        let code: [UInt8] = [0xb7, 0x01, 0, 0, n[0], n[1], n[2], n[3],
                             0x07, 0x01, 0, 0, 0xff, 0xff, 0xff, 0xff,
                             0x55, 0x01, 0xfe, 0xff, 0, 0, 0, 0,
                             0xb7, 0x00, 0, 0, 1, 0, 0, 0,
                             0x95, 0x00, 0, 0, 0, 0, 0, 0]
        program = try IngressProgram(name: "pgb_calibrate", code: code, attachingTo: cgroupPath,
                                     what: "the calibration program (\(self.iterations) iterations)")
    }

    /// (run_time_ns, run_cnt) so far.
    func stats() -> (runTime: UInt64, runs: UInt64) { program.stats() }

    /// Detaches (the link is not pinned: closing it detaches).
    func remove() { program.remove() }
}

extension UInt32 {
    var littleEndianBytes: [UInt8] { (0..<4).map { UInt8((self >> (8 * $0)) & 0xff) } }
}
