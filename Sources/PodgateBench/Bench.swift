import PodgateLab
import PodgateBenchCore
#if canImport(Glibc)
import Glibc
#endif

/// What `podgate bench` was asked to do (the CLI parses the command line).
public struct BenchOptions: Sendable {
    public enum Suite: String, Sendable, CaseIterable {
        case datapath, control, propagation, kube
        /// What `all` runs: `kube` (150k pods: about 10 minutes) is asked for by name.
        public static let all: [Suite] = [.datapath, .control, .propagation]
    }
    public var suites: [Suite] = []
    public var format = "table"              // table, json or markdown
    public var runs = 30
    public var seconds = 0.2
    public var quick = false
    public var pin = true
    public var checkOnly = false
    public var changes = 100
    public var maxPods = Int.max
    public var saveFile: String?
    public var executable: String
    public init(executable: String) { self.executable = executable }
}

/// `podgate bench datapath|control|propagation|all [-o json] [...]`.
public enum Bench {
    public static func ownExecutable() -> String { Files.ownExecutable() }

    static func log(_ text: String) { Files.standardError("podgate bench: " + text + "\n") }
    static func out(_ text: String) { Files.standardOutput(text + "\n") }

    /// `podgate bench --cleanup`: what killed runs left behind, from their registries.
    public static func cleanup() -> Int32 {
        let removed = Sandbox.sweepLeftovers()
        log("removed \(removed.count) leftover(s)\(removed.isEmpty ? "" : ": " + removed.joined(separator: ", "))")
        return 0
    }

    /// `podgate bench SUITE... [options]`, the options parsed by the CLI.
    public static func run(_ options: BenchOptions) -> Int32 {
        let (suites, format, changes, maxPods, saveFile, executable) =
            (options.suites, options.format, options.changes, options.maxPods, options.saveFile, options.executable)
        var datapath = DatapathOptions()
        (datapath.runs, datapath.seconds, datapath.quick, datapath.pin, datapath.checkOnly) =
            (options.runs, options.seconds, options.quick, options.pin, options.checkOnly)
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
                case .datapath: records += try DatapathBench(topology: try pods(), options: datapath).run()
                case .control:
                    var shapes = ClusterShape.standard.filter { $0.pods <= maxPods }
                    if datapath.quick { shapes = Array(shapes.prefix(2)) }
                    records += try ControlBench.run(sandbox: sandbox, executable: executable, shapes: shapes)
                case .propagation:
                    records += try PropagationBench.run(topology: try pods(), changes: datapath.quick ? 20 : changes,
                                                        otherPods: datapath.quick ? [0] : [0, 1_000, 10_000])
                case .kube:
                    var kube = KubeBench.Options()
                    kube.shapes = ClusterShape.standard.filter { $0.pods <= maxPods }
                    if datapath.quick { (kube.shapes, kube.churnSeconds, kube.singles) = (Array(kube.shapes.prefix(1)), 5, 5) }
                    records += try KubeBench.run(sandbox: sandbox, executable: executable, options: kube)
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
