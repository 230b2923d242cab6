import PodgateBenchCore
#if canImport(Glibc)
import Glibc
#endif

/// `podgate bench datapath|control|propagation|all [-o json] [...]`.
public enum Bench {
    public static let usage = """
    usage: podgate bench datapath|control|propagation|kube|all [options]
           podgate bench --cleanup
      datapath     the cost of enforcement: A none, B podgate (client+server; server only),
                   C iptables (match first/last, 0-30k rules ahead), D nftables set;
                   new TCP connections/s and round trips/s, program cost (ns/run),
                   time for a denied connect to fail
      control      compile, recompile and map-write times and memory on synthetic clusters
                   of 1k, 10k and 150k pods
      propagation  manifest change to first allowed connection with the real agent
      kube         the real agent in Kubernetes mode against the fixture API server serving
                   1k, 10k and 150k pods: its VmHWM/VmRSS, time to /readyz, and pod written ->
                   address map lag, one at a time and under 100 changes/s for 60 s (agent CPU);
                   not part of `all` (150k pods: about 10 minutes)
      all          all three (datapath alone: about 15 minutes on 2 shared cores;
                   `datapath --check`: about 80 s)
    options:
      -o json         one JSON record per line (configuration, size, metric, median, ratio_to_a, ...)
      -o markdown     a Markdown table (what the README shows)
      --runs N        rounds per configuration, each A then X or X then A (default 30);
                      every ratio is the Hodges-Lehmann estimate of the round ratios, with
                      its 95% Wilcoxon signed-rank interval
      --seconds S     length of one run (default 0.2)
      --no-pin        do not pin the client to CPU 0 and the server to CPU 1
      --check         datapath: only the method's check, A vs A (must hold 1) and
                      E, a BPF loop sized to cost 3% of a connection (must not)
      --changes N     propagation: policy changes (default 100)
      --max-pods N    control: skip clusters larger than N pods
      --save FILE     also write the JSON records to FILE (whatever -o says)
      --quick         fewer sizes (a smoke test)
      --cleanup       remove what an interrupted run left behind
    Needs root, cgroup v2, bpffs; C and D need iptables and nftables (skipped, and said so, if missing).
    Everything it creates is named podgate-bench-PID and removed at the end, on failure and on Ctrl-C.

    """

    public static func ownExecutable() -> String { Host.ownExecutable() }

    public static func main(_ arguments: [String], executable: String) -> Int32 {
        var suites: [String] = []
        var format = "table"
        var datapath = DatapathOptions()
        var changes = 100
        var maxPods = Int.max
        var saveFile: String?
        var index = 0
        func value() -> String? {
            index += 1
            return index < arguments.count ? arguments[index] : nil
        }
        while index < arguments.count {
            switch arguments[index] {
            case "-h", "--help":
                Host.write(1, usage)
                return 0
            case "--cleanup":
                let removed = Sandbox.sweepLeftovers()
                Host.log("removed \(removed.count) leftover(s)\(removed.isEmpty ? "" : ": " + removed.joined(separator: ", "))")
                return 0
            case "-o", "--output":
                guard let f = value(), ["json", "table", "markdown"].contains(f) else { Host.log("-o needs json, table or markdown"); return 2 }
                format = f
            case "--runs":
                guard let n = value().flatMap({ Int($0) }), n > 0 else { Host.log("--runs needs a positive number"); return 2 }
                datapath.runs = n
            case "--seconds":
                guard let s = value().flatMap({ Double($0) }), s > 0 else { Host.log("--seconds needs a positive number"); return 2 }
                datapath.seconds = s
            case "--changes":
                guard let n = value().flatMap({ Int($0) }), n > 0 else { Host.log("--changes needs a positive number"); return 2 }
                changes = n
            case "--max-pods":
                guard let n = value().flatMap({ Int($0) }), n > 0 else { Host.log("--max-pods needs a positive number"); return 2 }
                maxPods = n
            case "--save":
                guard let f = value() else { Host.log("--save needs a file"); return 2 }
                saveFile = f
            case "--quick": datapath.quick = true
            case "--no-pin": datapath.pin = false
            case "--check": datapath.checkOnly = true
            case "datapath", "control", "propagation", "kube": suites.append(arguments[index])
            case "all": suites += ["datapath", "control", "propagation"]
            default:
                Host.log("unknown argument \(arguments[index])\n\(usage)")
                return 2
            }
            index += 1
        }
        guard !suites.isEmpty else {
            Host.write(2, usage)
            return 2
        }
        guard getuid() == 0 else {
            Host.log("needs root (network namespaces, cgroups, BPF)")
            return 2
        }
        Interrupts.install()
        let started = Host.seconds
        var records: [BenchRecord] = []
        let sandbox: Sandbox
        do { sandbox = try Sandbox() } catch {
            Host.log("\(error)")
            return 2
        }
        defer { sandbox.cleanup() }
        do {
            var topology: BenchTopology?
            func pods() throws -> BenchTopology {
                if let topology { return topology }
                let built = BenchTopology(sandbox: sandbox, executable: executable)
                if datapath.pin, sysconf(Int32(_SC_NPROCESSORS_ONLN)) >= 2 { (built.clientCPU, built.serverCPU) = (0, 1) }
                try built.build()
                topology = built
                return built
            }
            for suite in suites {
                switch suite {
                case "datapath": records += try DatapathBench(topology: try pods(), options: datapath).run()
                case "control":
                    var shapes = ClusterShape.standard.filter { $0.pods <= maxPods }
                    if datapath.quick { shapes = Array(shapes.prefix(2)) }
                    records += try ControlBench.run(sandbox: sandbox, executable: executable, shapes: shapes)
                case "propagation":
                    records += try PropagationBench.run(topology: try pods(), changes: datapath.quick ? 20 : changes,
                                                        otherPods: datapath.quick ? [0] : [0, 1_000, 10_000])
                case "kube":
                    var kube = KubeBench.Options()
                    kube.shapes = ClusterShape.standard.filter { $0.pods <= maxPods }
                    if datapath.quick { (kube.shapes, kube.churnSeconds, kube.singles) = (Array(kube.shapes.prefix(1)), 5, 5) }
                    records += try KubeBench.run(sandbox: sandbox, executable: executable, options: kube)
                default: break
                }
            }
        } catch {
            Host.log("failed: \(error)")
            print(records, format: format, saveFile: saveFile)
            return Interrupts.received != 0 ? 128 + Interrupts.received : 1
        }
        print(records, format: format, saveFile: saveFile)
        Host.log("done in \(ReportFormat.fixed(Host.seconds - started, digits: 0)) s")
        return 0
    }

    static func print(_ records: [BenchRecord], format: String, saveFile: String?) {
        if let saveFile {
            do { try Host.writeFile(saveFile, records.map(ReportFormat.json).joined(separator: "\n") + "\n") } catch {
                Host.log("cannot save: \(error)")
            }
        }
        print(records, format: format)
    }

    static func print(_ records: [BenchRecord], format: String) {
        switch format {
        case "json": for record in records { Host.out(ReportFormat.json(record)) }
        case "markdown": Host.out(ReportFormat.markdown(records))
        default: Host.out(ReportFormat.table(records))
        }
    }
}
