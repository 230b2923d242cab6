import PodgateBench
import PodgateCLI

/// `podgate bench ...`; `podgate bench-helper ...` is the in-pod helper's old name.
enum BenchCommand {
    static let spec = CommandSpec(
        name: "podgate bench", summary: "Measure podgate: the datapath's cost, the control plane, policy propagation.",
        usage: "datapath|control|propagation|kube|all [options]  |  podgate bench --cleanup",
        flags: [
            .init("output", value: "json|table|markdown", default: "table",
                  help: "-o json: one record per line (configuration, size, metric, median, ratio_to_a, ...); markdown: the README's table"),
            .init("runs", value: "N", default: "30",
                  help: "Rounds per configuration, each A then X or X then A; every ratio is the Hodges-Lehmann estimate of the round ratios, with its 95% Wilcoxon signed-rank interval"),
            .init("seconds", value: "S", default: "0.2", help: "Length of one run"),
            .init("no-pin", help: "Do not pin the client to CPU 0 and the server to CPU 1"),
            .init("check", help: "datapath: only the method's check, A vs A (must hold 1) and E, a BPF loop sized to cost 3% of a connection (must not)"),
            .init("changes", value: "N", default: "100", help: "propagation: policy changes"),
            .init("max-pods", value: "N", help: "control and kube: skip clusters larger than N pods"),
            .init("save", value: "FILE", help: "Also write the JSON records to FILE (whatever -o says)"),
            .init("quick", help: "Fewer sizes (a smoke test)"),
            .init("cleanup", help: "Remove what an interrupted or killed run left behind"),
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
          kube         the real agent in Kubernetes mode against the fixture API server serving
                       1k, 10k and 150k pods: its VmHWM/VmRSS, time to /readyz, and pod written ->
                       address map lag, one at a time and under 100 changes/s for 60 s (agent CPU);
                       not part of `all` (150k pods: about 10 minutes)
          all          all three (datapath alone: about 15 minutes on 2 shared cores;
                       `datapath --check`: about 80 s)
        Needs root, cgroup v2, bpffs; C and D need iptables and nftables (skipped, and said so, if missing).
        Everything it creates is named podgate-bench-PID and removed at the end, on failure and on Ctrl-C.
        """)

    static func run(_ verb: String, _ arguments: [String]) -> Int32 {
        if verb == "bench-helper" { return HelperCommand.run(arguments) }
        return spec.run(arguments) { parsed in
            if parsed.has("cleanup") { return Bench.cleanup() }
            var options = BenchOptions(executable: Bench.ownExecutable())
            for word in parsed.positional {
                if word == "all" { options.suites += BenchOptions.Suite.all; continue }
                guard let suite = BenchOptions.Suite(rawValue: word) else {
                    throw UsageError("unknown suite \"\(word)\": datapath, control, propagation, kube or all")
                }
                options.suites.append(suite)
            }
            guard !options.suites.isEmpty else { throw UsageError("name a suite: datapath, control, propagation, kube or all (see podgate bench --help)") }
            options.format = parsed.string("output", spec: spec) ?? "table"
            guard ["json", "table", "markdown"].contains(options.format) else { throw UsageError("-o must be json, table or markdown, not \"\(options.format)\"") }
            options.runs = try parsed.int("runs", default: options.runs, range: 1...100_000)
            if let text = parsed.value("seconds") {
                guard let seconds = Double(text), seconds > 0 else { throw UsageError("--seconds must be a positive number, not \"\(text)\"") }
                options.seconds = seconds
            }
            options.changes = try parsed.int("changes", default: options.changes, range: 1...1_000_000)
            options.maxPods = try parsed.int("max-pods", default: options.maxPods, range: 1...100_000_000)
            options.quick = parsed.has("quick")
            options.pin = !parsed.has("no-pin")
            options.checkOnly = parsed.has("check")
            options.saveFile = parsed.value("save")
            return Bench.run(options)
        }
    }
}
