import PodgateLab
import PodgateBenchCore
import PodgateCLI
#if canImport(Glibc)
import Glibc
#endif

/// `podgate bench datapath|control|propagation|all [-o json] [...]`.
public enum Bench {
    /// `podgate bench`'s options, parsed by PodgateCLI's one parser like every podgate command.
    static let spec = CommandSpec(
        name: "podgate bench", summary: "Measure podgate: the datapath's cost, the control plane, policy propagation.",
        usage: "datapath|control|propagation|all [options] | --cleanup",
        flags: [
            .init("output", value: "json|table|markdown", default: "table",
                  help: "-o json: one record per line (configuration, size, metric, median, ratio_to_a, ...); markdown: the README's table"),
            .init("runs", value: "N", default: "30",
                  help: "Rounds per configuration, each A then X or X then A; every ratio is the Hodges-Lehmann estimate of the round ratios, with its 95% Wilcoxon signed-rank interval"),
            .init("seconds", value: "S", default: "0.2", help: "Length of one run"),
            .init("no-pin", help: "Do not pin the client to CPU 0 and the server to CPU 1"),
            .init("check", help: "datapath: only the method's check, A vs A (must hold 1) and E, a BPF loop sized to cost 3% of a connection (must not)"),
            .init("changes", value: "N", default: "100", help: "propagation: policy changes"),
            .init("max-pods", value: "N", help: "control: skip clusters larger than N pods"),
            .init("save", value: "FILE", help: "Also write the JSON records to FILE (whatever -o says)"),
            .init("quick", help: "Fewer sizes (a smoke test)"),
            .init("cleanup", help: "Remove what an interrupted run left behind"),
        ],
        details: """
        Suites:
          datapath     the cost of enforcement: A none, B podgate (client+server; server only),
                       C iptables (match first/last, 0-30k rules ahead), D nftables set;
                       new TCP connections/s and round trips/s, program cost (ns/run),
                       time for a denied connect to fail
          control      compile, recompile and map-write times and memory on synthetic clusters
                       of 1k, 10k and 150k pods
          propagation  manifest change to first allowed connection with the real agent
          all          all three (datapath alone: about 15 minutes on 2 shared cores;
                       `datapath --check`: about 80 s)
        Needs root, cgroup v2, bpffs; C and D need iptables and nftables (skipped, and said so, if missing).
        Everything it creates is named podgate-bench-PID and removed at the end, on failure and on Ctrl-C.
        """)

    public static func ownExecutable() -> String { Files.ownExecutable() }

    static func log(_ text: String) { Files.standardError("podgate bench: " + text + "\n") }
    static func out(_ text: String) { Files.standardOutput(text + "\n") }

    public static func main(_ arguments: [String], executable: String) -> Int32 {
        let parsed: ParsedArguments
        do { parsed = try parseArguments(arguments, spec: spec) } catch {
            log("\(error)")
            return 2
        }
        if parsed.wantsHelp {
            out(spec.helpText)
            return 0
        }
        if parsed.has("cleanup") {
            let removed = Sandbox.sweepLeftovers()
            log("removed \(removed.count) leftover(s)\(removed.isEmpty ? "" : ": " + removed.joined(separator: ", "))")
            return 0
        }
        var suites: [String] = []
        let format: String
        var datapath = DatapathOptions()
        let changes: Int, maxPods: Int
        let saveFile = parsed.value("save")
        do {
            for suite in parsed.positional {
                switch suite {
                case "datapath", "control", "propagation": suites.append(suite)
                case "all": suites += ["datapath", "control", "propagation"]
                default: throw UsageError("unknown suite \(suite): datapath, control, propagation or all")
                }
            }
            format = parsed.string("output", spec: spec) ?? "table"
            guard ["json", "table", "markdown"].contains(format) else { throw UsageError("-o needs json, table or markdown") }
            datapath.runs = try parsed.int("runs", default: datapath.runs, range: 1...100_000)
            if let text = parsed.value("seconds") {
                guard let seconds = Double(text), seconds > 0 else { throw UsageError("--seconds needs a positive number") }
                datapath.seconds = seconds
            }
            changes = try parsed.int("changes", default: 100, range: 1...1_000_000)
            maxPods = try parsed.int("max-pods", default: Int.max, range: 1...100_000_000)
            datapath.quick = parsed.has("quick")
            datapath.pin = !parsed.has("no-pin")
            datapath.checkOnly = parsed.has("check")
        } catch {
            log("\(error)")
            return 2
        }
        guard !suites.isEmpty else {
            Files.standardError(spec.helpText)
            return 2
        }
        guard getuid() == 0 else {
            Bench.log("needs root (network namespaces, cgroups, BPF)")
            return 2
        }
        Interrupts.install()
        let started = Monotonic.seconds
        var records: [BenchRecord] = []
        let sandbox: Sandbox
        do { sandbox = try Sandbox() } catch {
            Bench.log("\(error)")
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
                default: break
                }
            }
        } catch {
            Bench.log("failed: \(error)")
            print(records, format: format, saveFile: saveFile)
            return Interrupts.signal.map { 128 + $0 } ?? 1
        }
        print(records, format: format, saveFile: saveFile)
        Bench.log("done in \(ReportFormat.fixed(Monotonic.seconds - started, digits: 0)) s")
        return 0
    }

    static func print(_ records: [BenchRecord], format: String, saveFile: String?) {
        if let saveFile {
            do { try Files.write(saveFile, records.map(ReportFormat.json).joined(separator: "\n") + "\n", atomically: false) } catch {
                Bench.log("cannot save: \(error)")
            }
        }
        print(records, format: format)
    }

    static func print(_ records: [BenchRecord], format: String) {
        switch format {
        case "json": for record in records { Bench.out(ReportFormat.json(record)) }
        case "markdown": Bench.out(ReportFormat.markdown(records))
        default: Bench.out(ReportFormat.table(records))
        }
    }
}
