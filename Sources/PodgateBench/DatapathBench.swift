import PodgateLab
import CLibbpf
import PodgateBenchCore
import PodgateCompiler
import PodgateDatapath
import PodgateModel
#if canImport(Glibc)
import Glibc
#endif

/// What guards the server in one configuration.
enum Enforcement: CustomStringConvertible {
    case none
    /// A against A: nothing applied in the X half. Its interval must hold 1.
    case same
    /// A known cost: a bounded BPF loop of `iterations` on the server's ingress.
    case calibration(iterations: Int)
    /// podgate on both pods' cgroups (client connect4 + server ingress), or on the server's only.
    case podgate(serverOnly: Bool, policyEntries: Int, addresses: Int)
    /// iptables in the server's namespace: ESTABLISHED, the allow rules, then DROP (or REJECT).
    /// `unrelated` other allow rules, the matching one first or last of them.
    case iptables(tool: String, unrelated: Int, matchLast: Bool, reject: Bool)
    /// nftables: `ip saddr . tcp dport @allow` with `elements` entries in the set.
    case nftables(elements: Int)

    var configuration: String {
        switch self {
        case .none: return "A none"
        case .same: return "A' none again (A vs A)"
        case .calibration: return "E known cost (BPF loop on ingress)"
        case .podgate(let serverOnly, _, _): return serverOnly ? "B podgate server only" : "B podgate client+server"
        case .iptables(let tool, _, let last, let reject):
            return "C \(tool) match \(last ? "last" : "first")" + (reject ? " REJECT" : "")
        case .nftables: return "D nftables set"
        }
    }

    var size: String {
        switch self {
        case .none, .same: return "-"
        case .calibration(let iterations): return "loop=\(ReportFormat.count(iterations))"
        case .podgate(_, let policy, let addresses): return "policy=\(ReportFormat.count(policy)) addr=\(ReportFormat.count(addresses))"
        case .iptables(_, let unrelated, _, _): return "rules ahead=\(ReportFormat.count(unrelated))"
        case .nftables(let elements): return "set=\(ReportFormat.count(elements))"
        }
    }

    var description: String { "\(configuration) \(size)" }
}

struct DatapathOptions {
    var runs = 30
    var seconds = 0.2
    var quick = false
    /// Client on CPU 0, server on CPU 1 (when there are two).
    var pin = true
    /// The difference the intervals must resolve; a wider interval holding 1 says "cannot resolve".
    var resolution = 0.03
    /// The known cost E adds, as a fraction of A's time per connection.
    var calibrationCost = 0.03
    /// Only the method's check: A vs A and the known cost E.
    var checkOnly = false
}

/// `podgate bench datapath`: the same two pods under each configuration;
/// every configuration is measured next to fresh runs of A (no enforcement),
/// so each ratio compares runs minutes apart at most on a shared machine.
final class DatapathBench {
    let topology: BenchTopology
    let sandbox: Sandbox
    let options: DatapathOptions
    private(set) var records: [BenchRecord] = []
    private var baselineCRR: [Double] = []
    private var baselineRR: [Double] = []
    private var baselineCPU: [Double] = []
    /// Wall-clock rates, and rates per second of CPU the client and server used
    /// (which another engineer's build taking the cores does not change).
    static let metrics = ["conn/s", "conn/CPU-s", "rr/s", "rr/CPU-s"]
    let iptablesLegacy = Files.which("iptables-legacy-restore")
    let iptablesNft = Files.which("iptables-nft-restore")
    let nft = Files.which("nft")

    init(topology: BenchTopology, options: DatapathOptions) {
        self.topology = topology
        self.sandbox = topology.sandbox
        self.options = options
    }

    /// Iterations of E's loop, sized by `calibrate()` to cost `calibrationCost` of a connection.
    var calibrationIterations = 0
    /// A's time per connection (ns) and E's measured cost per connection, for the expected ratio.
    private var nsPerConnectionA = 0.0
    private var calibrationNsPerConnection = 0.0

    var configurations: [Enforcement] {
        // The method's check first: A vs A must hold 1, the known cost must not.
        var list: [Enforcement] = [.same, .calibration(iterations: calibrationIterations)]
        if options.checkOnly { return list }
        let policySizes = options.quick ? [1, 100_000] : [1, 1_000, 10_000, 100_000]
        for policy in policySizes { list.append(.podgate(serverOnly: false, policyEntries: policy, addresses: 100_000)) }
        list.append(.podgate(serverOnly: false, policyEntries: 10_000, addresses: 1_000))
        list.append(.podgate(serverOnly: true, policyEntries: 10_000, addresses: 100_000))
        if iptablesLegacy != nil {
            for unrelated in options.quick ? [0, 30_000] : [0, 1_000, 10_000, 30_000] {
                list.append(.iptables(tool: "iptables-legacy", unrelated: unrelated, matchLast: true, reject: false))
            }
            list.append(.iptables(tool: "iptables-legacy", unrelated: 30_000, matchLast: false, reject: false))
        }
        if iptablesNft != nil {
            list.append(.iptables(tool: "iptables-nft", unrelated: 30_000, matchLast: true, reject: false))
        }
        if nft != nil {
            for elements in options.quick ? [100_000] : [10_000, 100_000] { list.append(.nftables(elements: elements)) }
        }
        return list
    }

    func run() throws -> [BenchRecord] {
        if iptablesLegacy == nil && iptablesNft == nil {
            Bench.log("iptables is not installed: configuration C skipped (apt-get install -y iptables)")
            records.append(BenchRecord(suite: "datapath", configuration: "C iptables", size: "-", metric: "conn/s", median: .nan, note: "iptables not installed"))
        }
        if nft == nil {
            Bench.log("nftables is not installed: configuration D skipped (apt-get install -y nftables)")
            records.append(BenchRecord(suite: "datapath", configuration: "D nftables", size: "-", metric: "conn/s", median: .nan, note: "nftables not installed"))
        }
        sandbox.enableBPFStats()
        Bench.log("rounds: \(options.runs) x (A, X) of \(options.seconds) s, order alternating; "
                 + (topology.clientCPU != nil ? "client on CPU \(topology.clientCPU!), server on CPU \(topology.serverCPU!)" : "not pinned") + "; load average " + Self.loadAverage)
        try calibrate()
        for configuration in configurations {
            try Interrupts.check()
            Bench.log("\(configuration)")
            try measure(configuration)
        }
        if !options.checkOnly {
            try measureStatsFloor()
            try deniedConnects()
        }
        let crrA = Statistics.median(baselineCRR) ?? .nan
        let rrA = Statistics.median(baselineRR) ?? .nan
        records.insert(BenchRecord(suite: "datapath", configuration: "A none", size: "-", metric: "conn/s", median: crrA,
                                   ratioToA: 1, runs: baselineCRR.count, note: "every A run"), at: 0)
        records.insert(BenchRecord(suite: "datapath", configuration: "A none", size: "-", metric: "rr/s", median: rrA,
                                   ratioToA: 1, runs: baselineRR.count, note: "every A run"), at: 1)
        records.insert(BenchRecord(suite: "datapath", configuration: "A none", size: "-", metric: "conn/CPU-s",
                                   median: Statistics.median(baselineCPU) ?? .nan, ratioToA: 1, runs: baselineCPU.count,
                                   note: "every A run; connections per second of client + server CPU"), at: 1)
        return records
    }

    /// Sizes E's loop: A's time per connection, then the loop's measured cost
    /// per connection at a trial size, scaled linearly to `calibrationCost` of A.
    func calibrate() throws {
        _ = try topology.client("crr", seconds: 0.05)
        let a = try topology.client("crr", seconds: max(options.seconds, 0.2))
        nsPerConnectionA = a.cpu / max(a.count, 1)
        let trial = 2_000
        let program = try CalibrationProgram(iterations: trial, attachingTo: topology.serverCgroup)
        defer { program.remove() }
        let run = try topology.client("crr", seconds: max(options.seconds, 0.2))
        let cost = Double(program.stats().runTime) / max(run.count, 1)
        calibrationIterations = Int((Double(trial) * options.calibrationCost * nsPerConnectionA / max(cost, 1)).rounded())
        calibrationIterations = max(1, min(calibrationIterations, CalibrationProgram.maxIterations))
        Bench.log("calibration: A \(ReportFormat.fixed(nsPerConnectionA / 1000, digits: 1)) us CPU/connection (client + server); a \(trial)-iteration loop costs "
                 + "\(ReportFormat.fixed(cost, digits: 0)) ns/connection; E runs \(calibrationIterations) iterations")
    }

    /// `runs` rounds; each measures A and the configuration back to back (in
    /// alternating order), applying the configuration for its half and removing
    /// it after, so every ratio compares runs a second apart on a shared machine.
    /// The ratio is PairedRatio's estimate from the per-round ratios, with its 95%
    /// interval; program statistics are read around the TCP_CRR runs only.
    func measure(_ configuration: Enforcement) throws {
        // Per metric, per round: A's figure and X's.
        var a: [String: [Double]] = [:], x: [String: [Double]] = [:]
        var cost: [String: ProgramStats] = [:]
        var connections = 0.0
        var applyTimes: [Double] = []
        // podgate: the maps are filled once; each X half only attaches the
        // programs (a fresh load that adopts the pinned, filled maps) and each
        // A half detaches them, so the halves are milliseconds apart, not the
        // half second a 100k-entry fill takes.
        var session: PodgateSession?
        if case .podgate(let serverOnly, let policyEntries, let addresses) = configuration {
            session = try PodgateSession(pinDirectory: pinPath, cgroup: serverOnly ? topology.serverCgroup : topology.podsCgroup,
                                         operations: try PodgateFixture.operations(topology: topology, policyEntries: policyEntries, addresses: addresses))
        }
        defer { session?.remove() }
        for round in 0..<options.runs {
            var pair: [[String: Double]] = [[:], [:]]
            for half in (round % 2 == 0 ? [0, 1] : [1, 0]) {
                try Interrupts.check()
                var teardown: () -> Void = {}
                defer { teardown() }
                var calibration: CalibrationProgram?
                if half == 1 {
                    let started = Monotonic.nanoseconds
                    if case .calibration(let iterations) = configuration {
                        let program = try CalibrationProgram(iterations: iterations, attachingTo: topology.serverCgroup)
                        calibration = program
                        teardown = { program.remove() }
                    } else if let session {
                        try session.attach()
                        teardown = { session.detach() }
                    } else {
                        teardown = try apply(configuration)
                    }
                    applyTimes.append(Double(Monotonic.nanoseconds - started) / 1e6)
                }
                _ = try topology.client("crr", seconds: 0.05)  // warm-up
                var before = try programStats(configuration)
                if let stats = calibration?.stats() { before["cgroup_skb/ingress"] = ProgramStats(runTime: stats.runTime, runs: stats.runs) }
                let crr = try topology.client("crr", seconds: options.seconds)
                if crr.errors > 0 { Bench.log("  \(Int(crr.errors)) failed connections in a CRR run") }
                var after = try programStats(configuration)
                if let calibration {
                    let stats = calibration.stats()
                    after["cgroup_skb/ingress"] = ProgramStats(runTime: stats.runTime, runs: stats.runs)
                    calibrationNsPerConnection += Double(stats.runTime - (before["cgroup_skb/ingress"]?.runTime ?? 0))  // per connection below
                }
                let rr = try topology.client("rr", seconds: options.seconds)
                pair[half] = ["conn/s": crr.count / (crr.nanoseconds / 1e9), "conn/CPU-s": crr.count / (crr.cpu / 1e9),
                              "rr/s": rr.count / (rr.nanoseconds / 1e9), "rr/CPU-s": rr.count / (rr.cpu / 1e9)]
                guard half == 1 else { continue }
                connections += crr.count
                for (hook, stats) in after {
                    let earlier = before[hook] ?? ProgramStats(runTime: 0, runs: 0)
                    cost[hook, default: ProgramStats(runTime: 0, runs: 0)].runTime += stats.runTime - earlier.runTime
                    cost[hook, default: ProgramStats(runTime: 0, runs: 0)].runs += stats.runs - earlier.runs
                }
            }
            for metric in Self.metrics {
                a[metric, default: []].append(pair[0][metric] ?? .nan)
                x[metric, default: []].append(pair[1][metric] ?? .nan)
            }
        }
        baselineCRR += a["conn/s"] ?? []
        baselineRR += a["rr/s"] ?? []
        baselineCPU += a["conn/CPU-s"] ?? []
        for metric in ["conn/s", "conn/CPU-s"] {
            Bench.log("  rounds (A/X \(metric)): " + zip(a[metric] ?? [], x[metric] ?? []).map { "\(ReportFormat.figure($0))/\(ReportFormat.figure($1))" }.joined(separator: " "))
        }
        var expected = ""
        if case .calibration = configuration, connections > 0 {
            calibrationNsPerConnection /= connections
            let ratio = nsPerConnectionA / (nsPerConnectionA + calibrationNsPerConnection)
            expected = "; adds \(ReportFormat.fixed(calibrationNsPerConnection, digits: 0)) ns/connection (bpf_stats) to A's "
                + "\(ReportFormat.fixed(nsPerConnectionA, digits: 0)): expected at most \(ReportFormat.fixed(ratio, digits: 3))"
                + " (bpf_stats times the loop, not the hook's own cost per packet)"
        }
        for metric in Self.metrics {
            let values = x[metric] ?? [], reference = a[metric] ?? []
            let ratio = zip(values, reference).map { $0 / $1 }
            let median = Statistics.median(values) ?? .nan
            let aMedian = Statistics.median(reference) ?? .nan
            let paired = PairedRatio(ratios: ratio)
            var record = BenchRecord(suite: "datapath", configuration: configuration.configuration, size: configuration.size,
                                     metric: metric, median: median, ratioToA: paired?.ratio ?? Statistics.median(ratio), runs: values.count,
                                     note: Self.verdict(paired, resolution: options.resolution) + "; A alongside: \(ReportFormat.figure(aMedian))"
                                         + (metric == "conn/CPU-s" ? expected : ""))
            record.ratioLow = paired?.low
            record.ratioHigh = paired?.high
            records.append(record)
            Bench.log("  \(metric): \(ReportFormat.figure(median)) (A \(ReportFormat.figure(aMedian)), ratio \(record.ratioText)): \(record.note)")
        }
        Bench.log("  applied in \(ReportFormat.fixed(Statistics.median(applyTimes) ?? .nan, digits: 0)) ms (median)")
        for hook in ["cgroup/connect4", "cgroup_skb/ingress"] {
            guard let c = cost[hook], c.runs > 0 else { continue }
            let runs = Double(c.runs)
            let perRun = Double(c.runTime) / runs
            records.append(BenchRecord(suite: "program cost", configuration: configuration.configuration + " " + hook,
                                       size: configuration.size, metric: "ns/run", median: perRun, runs: Int(runs),
                                       note: "\(ReportFormat.fixed(runs / max(connections, 1), digits: 1)) runs per TCP_CRR connection"))
            Bench.log("  \(hook): \(ReportFormat.fixed(perRun, digits: 1)) ns/run over \(Int(runs)) runs")
        }
    }

    /// What the interval lets one say, in the record's note.
    static func verdict(_ paired: PairedRatio?, resolution: Double) -> String {
        guard let paired else { return "no interval: too few rounds (6 needed at 95%)" }
        let width = "+-" + ReportFormat.fixed(paired.halfWidth * 100, digits: 1) + "%"
        switch paired.verdict(resolution: resolution) {
        case .slower: return "slower than A (95% CI \(width))"
        case .faster: return "faster than A (95% CI \(width))"
        case .noDifference: return "no difference from A beyond \(ReportFormat.fixed(resolution * 100, digits: 0))% (95% CI \(width))"
        case .unresolved: return "CANNOT RESOLVE \(ReportFormat.fixed(resolution * 100, digits: 0))%: 95% CI \(width) holds 1; the ratio means nothing at that resolution"
        }
    }

    // MARK: - configurations

    lazy var pinPath = sandbox.pin("-bpf")

    func apply(_ configuration: Enforcement) throws -> () -> Void {
        switch configuration {
        case .none, .same:
            return {}
        case .calibration(let iterations):
            let program = try CalibrationProgram(iterations: iterations, attachingTo: topology.serverCgroup)
            return { program.remove() }
        case .podgate(let serverOnly, let policyEntries, let addresses):
            let pin = pinPath
            let attachTo = serverOnly ? topology.serverCgroup : topology.podsCgroup
            let maps = try DatapathLoader(pinDirectory: pin).load(attachingTo: attachTo)
            try maps.apply(try PodgateFixture.operations(topology: topology, policyEntries: policyEntries, addresses: addresses))
            return { _ = try? DatapathLoader.detachAndRemove(pinDirectory: pin) }
        case .iptables(let tool, let unrelated, let matchLast, let reject):
            let restore = (tool == "iptables-nft" ? iptablesNft : iptablesLegacy)!
            let file = sandbox.tmp + "/iptables.rules"
            try Files.write(file, Firewall.iptablesRules(unrelated: unrelated, matchLast: matchLast, reject: reject), atomically: false)
            try topology.inPod(topology.serverNetns, [restore, file])
            try conntrackTuning()
            let flush = String(restore.dropLast("-restore".count))
            let topology = topology
            return { try? topology.inPod(topology.serverNetns, [flush, "-F", "INPUT"]) }
        case .nftables(let elements):
            let file = sandbox.tmp + "/nft.rules"
            try Files.write(file, Firewall.nftRules(elements: elements), atomically: false)
            try topology.inPod(topology.serverNetns, [nft!, "-f", file])
            try conntrackTuning()
            let topology = topology, tool = nft!
            return { try? topology.inPod(topology.serverNetns, [tool, "delete", "table", "inet", "pgbench"]) }
        }
    }

    /// Tens of thousands of connections a second would fill the conntrack table
    /// with TIME_WAIT entries (120 s each) and make C and D drop SYNs: expire them after 1 s.
    private func conntrackTuning() throws {
        try? topology.sysctl(topology.serverNetns, ["net.netfilter.nf_conntrack_tcp_timeout_time_wait=1"])
    }

    // MARK: - program cost

    struct ProgramStats { var runTime: UInt64; var runs: UInt64 }

    func programStats(_ configuration: Enforcement) throws -> [String: ProgramStats] {
        guard case .podgate(let serverOnly, _, _) = configuration else { return [:] }
        let cgroup = serverOnly ? topology.serverCgroup : topology.podsCgroup
        var result: [String: ProgramStats] = [:]
        for (hook, ids) in try CgroupAttachments.programs(at: cgroup) {
            for id in ids {
                let fd = bpf_prog_get_fd_by_id(id)
                guard fd >= 0 else { continue }
                defer { close(fd) }
                var info = bpf_prog_info()
                var length = UInt32(MemoryLayout<bpf_prog_info>.size)
                guard bpf_obj_get_info_by_fd(fd, &info, &length) == 0 else { continue }
                let name = withUnsafeBytes(of: info.name) { String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self) }
                guard name.hasPrefix("podgate") else { continue }
                result[hook] = ProgramStats(runTime: info.run_time_ns, runs: info.run_cnt)
            }
        }
        return result
    }

    /// What the statistics themselves add to every ns/run figure.
    func measureStatsFloor() throws {
        Bench.log("empty cgroup_skb program (the bpf_stats floor)")
        let program = try EmptyProgram(attachingTo: topology.serverCgroup)
        defer { program.remove() }
        _ = try topology.client("crr", seconds: 0.05)
        let before = program.stats()
        for _ in 0..<3 { _ = try topology.client("crr", seconds: options.seconds) }
        let after = program.stats()
        guard after.runs > before.runs else { return }
        let perRun = Double(after.runTime - before.runTime) / Double(after.runs - before.runs)
        records.append(BenchRecord(suite: "program cost", configuration: "empty cgroup_skb program (r0 = 1; exit)", size: "-",
                                   metric: "ns/run", median: perRun, runs: Int(after.runs - before.runs),
                                   note: "the floor: bpf_stats timing overhead included in every ns/run above"))
        Bench.log("  \(ReportFormat.fixed(perRun, digits: 1)) ns/run")
    }

    // MARK: - denied connects

    /// How long a refused connect takes to fail, per mechanism.
    func deniedConnects() throws {
        var cases: [(Enforcement, String, Int)] = [
            (.podgate(serverOnly: false, policyEntries: 1, addresses: 1_000), "B podgate client side", 20),
            (.podgate(serverOnly: true, policyEntries: 1, addresses: 1_000), "B podgate server side only (drop)", 2),
        ]
        if iptablesLegacy != nil {
            cases.append((.iptables(tool: "iptables-legacy", unrelated: 0, matchLast: true, reject: true), "C iptables REJECT tcp-reset", 20))
            cases.append((.iptables(tool: "iptables-legacy", unrelated: 0, matchLast: true, reject: false), "C iptables DROP", 2))
        }
        for (configuration, label, count) in cases {
            Bench.log("denied connect: \(label)")
            let teardown = try apply(configuration)
            defer { teardown() }
            let timeout = 1000
            let tries = try topology.deniedConnect(count: count, timeoutMs: timeout)
            let times = tries.map(\.ms)
            let codes = Set(tries.map(\.errno)).sorted().map { $0 == ETIMEDOUT ? "no answer in \(timeout) ms" : String(cString: strerror($0)) }
            let median = Statistics.median(times) ?? .nan
            records.append(BenchRecord(suite: "denied connect", configuration: label, size: "-", metric: "ms to fail",
                                       median: median, p99: Statistics.percentile(times, 99), runs: times.count,
                                       note: codes.joined(separator: ", ") + (codes.contains { $0.hasPrefix("no answer") } ? " (the kernel retries SYNs ~127 s by default)" : "")))
            Bench.log("  \(ReportFormat.fixed(median, digits: 3)) ms: \(codes.joined(separator: ", "))")
        }
    }
}

/// The firewall rule sets of C and D. Pure text.
public enum Firewall {
    /// An unrelated source: 10.200.0.0 upwards, never a bench pod.
    static func unrelatedSource(_ i: Int) -> String {
        let n = 0x0AC8_0000 + UInt32(i) + 1
        return "\(n >> 24).\((n >> 16) & 255).\((n >> 8) & 255).\(n & 255)"
    }

    public static func iptablesRules(unrelated: Int, matchLast: Bool, reject: Bool) -> String {
        var lines = ["*filter", ":INPUT ACCEPT [0:0]", ":FORWARD ACCEPT [0:0]", ":OUTPUT ACCEPT [0:0]",
                     "-A INPUT -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT"]
        let match = "-A INPUT -s \(BenchTopology.clientAddress)/32 -p tcp -m tcp --dport \(BenchTopology.port) -j ACCEPT"
        if !matchLast { lines.append(match) }
        lines.reserveCapacity(unrelated + 8)
        for i in 0..<unrelated {
            lines.append("-A INPUT -s \(unrelatedSource(i))/32 -p tcp -m tcp --dport \(BenchTopology.port) -j ACCEPT")
        }
        if matchLast { lines.append(match) }
        lines.append(reject ? "-A INPUT -p tcp -j REJECT --reject-with tcp-reset" : "-A INPUT -j DROP")
        lines.append("COMMIT")
        return lines.joined(separator: "\n") + "\n"
    }

    public static func nftRules(elements: Int) -> String {
        var set = ["\(BenchTopology.clientAddress) . \(BenchTopology.port)"]
        set.reserveCapacity(elements)
        for i in 0..<max(0, elements - 1) { set.append("\(unrelatedSource(i)) . \(BenchTopology.port)") }
        return """
        table inet pgbench {
          set allow {
            type ipv4_addr . inet_service
            size \(max(elements, 1) * 2)
            elements = { \(set.joined(separator: ", ")) }
          }
          chain input {
            type filter hook input priority 0; policy accept;
            ct state established,related accept
            ip saddr . tcp dport @allow accept
            drop
          }
        }

        """
    }
}

/// podgate loaded once with filled maps, attached and detached at will.
final class PodgateSession {
    let pinDirectory: String
    let cgroup: String

    init(pinDirectory: String, cgroup: String, operations: [MapOperation]) throws {
        self.pinDirectory = pinDirectory
        self.cgroup = cgroup
        let maps = try DatapathLoader(pinDirectory: pinDirectory).load(attachingTo: cgroup)
        try maps.apply(operations)
        detach()
    }

    /// Loads the programs again (the pinned maps, entries and all, are adopted) and attaches them.
    func attach() throws {
        _ = try DatapathLoader(pinDirectory: pinDirectory).load(attachingTo: cgroup)
    }

    /// Detaches every link and removes its pin; the maps stay pinned.
    func detach() {
        for name in Files.list(pinDirectory) where name.hasPrefix("link_") {
            let path = pinDirectory + "/" + name
            let fd = bpf_obj_get(path)
            if fd >= 0 {
                _ = bpf_link_detach(fd)
                close(fd)
            }
            unlink(path)
        }
    }

    func remove() { _ = try? DatapathLoader.detachAndRemove(pinDirectory: pinDirectory) }
}

extension DatapathBench {
    /// /proc/loadavg's first three fields: how busy the shared machine was.
    static var loadAverage: String {
        ((try? Files.read("/proc/loadavg")) ?? "").split(separator: " ").prefix(3).joined(separator: " ")
    }
}
