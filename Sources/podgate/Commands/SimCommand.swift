import PodgateCLI
import PodgateManifests
import PodgateModel
import PodgateSim

/// `podgate sim` and the hidden `podgate sim-helper` that the simulator runs
/// inside simulated pods (listeners, probes). The helper stays synchronous:
/// it enters a network namespace with setns, which is per thread.
enum SimCommand {
    static let parseDocuments: Sim.ParseDocuments = { text in try YAMLParser.parse(text) }

    static let spec = CommandSpec(
        name: "podgate sim", summary: "Build a scenario's cluster from network namespaces and cgroups, probe it, check expectations.",
        usage: "[options] FILE...  |  podgate sim --cleanup",
        flags: [
            .init("no-agent", help: "Build and probe without agents (everything should connect)"),
            .init("concurrency", value: "N", default: "32", help: "Probes in flight at once"),
            .init("hold", help: "After the probes keep the cluster up until Ctrl-C (SIGINT/SIGTERM), printing each node agent's pin dir and socket, so maps/events/status/explain can be tried"),
            .init("explain", help: "Also hold `podgate explain` to every probe's real outcome (failures if they differ)"),
            .init("keep", help: "Leave the run's objects in place on exit (debugging; then --cleanup)"),
            .init("cleanup", help: "Remove what crashed runs left behind"),
        ],
        details: "Builds the scenario's cluster from network namespaces and cgroups, runs one agent per node,\nprobes every expected connection and prints the matrix (docs/scenario-format.md).\nExit status: 0 every expectation held, 1 one did not, 2 an error, 130/143 interrupted.")

    static func run(_ arguments: [String]) -> Int32 {
        spec.run(arguments) { parsed in
            if parsed.has("cleanup") { return Sim.cleanup() }
            var options = SimOptions(executable: Sim.ownExecutable())
            options.startAgents = !parsed.has("no-agent")
            options.keep = parsed.has("keep")
            options.hold = parsed.has("hold")
            options.explain = parsed.has("explain")
            options.concurrency = try parsed.int("concurrency", default: options.concurrency, range: 1...Int(Int32.max))
            guard !parsed.positional.isEmpty else { throw UsageError("name at least one scenario FILE (see podgate sim --help)") }
            return Sim.run(files: parsed.positional, options: options, parseDocuments: parseDocuments)
        }
    }

    static func helper(_ arguments: [String]) -> Int32 {
        SimHelper.main(arguments: arguments)
    }
}
