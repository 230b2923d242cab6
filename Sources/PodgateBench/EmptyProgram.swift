/// The floor of `run_time_ns / run_cnt`: an empty cgroup_skb program
/// (`r0 = 1; exit`) attached to the server's cgroup. kernel.bpf_stats_enabled
/// times each run with sched_clock(), and that timing is part of every
/// program's figure; subtracting this floor gives the program's own work.
final class EmptyProgram {
    private let program: IngressProgram

    init(attachingTo cgroupPath: String) throws {
        // mov64 r0, 1 ; exit
        let code: [UInt8] = [0xb7, 0x00, 0, 0, 1, 0, 0, 0,
                             0x95, 0x00, 0, 0, 0, 0, 0, 0]
        program = try IngressProgram(name: "pgb_empty", code: code, attachingTo: cgroupPath, what: "the empty program")
    }

    /// (run_time_ns, run_cnt) so far.
    func stats() -> (runTime: UInt64, runs: UInt64) { program.stats() }

    /// Detaches (the link is not pinned: closing it detaches).
    func remove() { program.remove() }
}
