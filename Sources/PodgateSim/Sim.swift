#if canImport(Glibc)
import Glibc
#endif
import PodgateModel

/// `podgate sim ...`: the public entry points the executable dispatches to.
public enum Sim {
    public typealias ParseDocuments = ScenarioPlan.ParseDocuments

    /// `podgate sim [--no-agent] [--keep-going] [--concurrency N] FILE...` and `podgate sim --cleanup`.
    /// `executable` is the podgate binary to run helpers and agents from (its own /proc/self/exe).
    /// Returns the process exit code: 0 all held, 1 a probe failed, 2 an error, 130/143 interrupted.
    public static func main(arguments: [String], executable: String, parseDocuments: @escaping ParseDocuments) -> Int32 {
        var files: [String] = []
        var options = SimOptions(executable: executable)
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            switch argument {
            case "--cleanup":
                let result = CleanupRegistry.cleanupLeftovers(directory: Sim.stateDirectory, log: { Files.standardError("podgate sim: \($0)\n") })
                result.problems.forEach { Files.standardError("podgate sim: \($0)\n") }
                Files.standardError("podgate sim: \(result.removed) leftover run(s) cleaned up\n")
                return result.problems.isEmpty ? 0 : 1
            case "--no-agent": options.startAgents = false
            case "--keep": options.keep = true
            case "--hold": options.hold = true
            case "--explain": options.explain = true
            case "--concurrency":
                index += 1
                guard index < arguments.count, let n = Int(arguments[index]), n > 0 else {
                    Files.standardError("podgate sim: --concurrency needs a positive number\n")
                    return 2
                }
                options.concurrency = n
            case "-h", "--help":
                Files.standardOutput(usage)
                return 0
            default:
                if argument.hasPrefix("-") {
                    Files.standardError("podgate sim: unknown option \(argument)\n\(usage)")
                    return 2
                }
                files.append(argument)
            }
            index += 1
        }
        guard !files.isEmpty else {
            Files.standardError(usage)
            return 2
        }
        Interrupts.install()
        Isolation.cleanUpWhenParentDies()
        var worst: Int32 = 0
        for file in files {
            let code = SimRunner.run(file: file, options: options, parseDocuments: parseDocuments)
            worst = max(worst, code)
            if code >= 128 { break }
        }
        return worst
    }

    public static let usage = """
        usage: podgate sim [--no-agent] [--concurrency N] [--keep] [--hold] [--explain] FILE...
               podgate sim --cleanup
          Builds the scenario's cluster from network namespaces and cgroups, runs
          one agent per node, probes every expected connection and prints the matrix.
          --no-agent     build and probe without agents (everything should connect)
          --concurrency  probes in flight at once (default 32)
          --hold         after the probes keep the cluster up until Ctrl-C (SIGINT/SIGTERM), printing
                         each node agent's pin dir and socket, so maps/events/status/explain can be tried
          --explain      also hold `podgate explain` to every probe's real outcome (failures if they differ)
          --keep         leave the run's objects in place on exit (debugging; then --cleanup)
          --cleanup      remove what crashed runs left behind

        """

    /// This process's own executable (for the CLI to pass as `executable`).
    public static func ownExecutable() -> String { Files.ownExecutable() }

    /// Where each run's cleanup registry (its state file) lives.
    public static let stateDirectory = "/run/podgate-sim"
}

public struct SimOptions: Sendable {
    public var executable: String
    public var startAgents = true
    public var concurrency = 32
    public var keep = false
    public var hold = false
    public var explain = false
    /// How long to wait for every agent to report a generation.
    public var agentTimeout: Double = 10
    public init(executable: String) { self.executable = executable }
}
