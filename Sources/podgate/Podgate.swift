#if canImport(Glibc)
import Glibc
#endif
import PodgateCLI
import PodgateLog

/// The one executable. Each verb lives in its own file under Commands/.
@main
struct Podgate {
    static let version = "0.1.0"

    static let commands: [(name: String, summary: String)] = [
        ("agent", "Run the node agent: watching the API server, or a directory of manifests (--manifests DIR)"),
        ("maps", "Dump the kernel's maps: `podgate maps dump [SECTION]` (works with the agent down)"),
        ("events", "Stream denied and audit events: `podgate events tail`"),
        ("status", "Show the running agent's health, map fill, sync times and invalid policies"),
        ("explain", "Explain the verdict for one connection and check it against the kernel"),
        ("sim", "Build a scenario's cluster from namespaces and cgroups, probe it, check expectations"),
        ("demo", "Replay the seed walkthrough on a simulated node, explained step by step"),
        ("bench", "Measure enforcement cost against none/iptables/nftables, and the control plane"),
        ("version", "Print the version and the BPF ABI version"),
    ]

    static func main() async {
        signal(SIGPIPE, SIG_IGN)
        var arguments = Array(CommandLine.arguments.dropFirst())
        guard let verb = arguments.first else {
            Output.err(usage)
            exit(2)
        }
        arguments.removeFirst()
        let status: Int32
        switch verb {
        case "agent": status = await AgentCommand.run(arguments)
        case "maps": status = MapsCommand.run(arguments)
        case "events": status = EventsCommand.run(arguments)
        case "status": status = StatusCommand.run(arguments)
        case "explain": status = ExplainCommand.run(arguments)
        case "sim": status = SimCommand.run(arguments)
        case "sim-helper": status = SimCommand.helper(arguments)
        case "demo": status = DemoCommand.run(arguments)
        case "bench", "bench-helper": status = BenchCommand.run(verb, arguments)
        case "version", "--version": status = VersionCommand.run(arguments)
        case "help", "--help", "-h":
            Output.out(usage)
            status = 0
        default:
            Output.err("podgate: unknown command \"\(verb)\"\n\n\(usage)")
            status = 2
        }
        exit(status)
    }

    static var usage: String {
        var text = "podgate: identity-based, port-level network authorization between pods, enforced in the kernel.\n\nUsage: podgate COMMAND [options]\n\nCommands:\n"
        for command in commands {
            text += "  \(command.name)\(String(repeating: " ", count: 10 - command.name.count))\(command.summary)\n"
        }
        text += "\nRun `podgate COMMAND --help` for a command's options."
        return text
    }
}

/// How every command starts and ends: parse against the spec, answer
/// --help (exit 0), report misuse (2) or failure (1) as one line named after
/// the command, else the body's own status.
extension CommandSpec {
    func run(_ arguments: [String], _ body: (ParsedArguments) throws -> Int32) -> Int32 {
        switch start(arguments) {
        case let .exit(code): return code
        case let .run(parsed):
            do { return try body(parsed) } catch { return report(error) }
        }
    }

    func run(_ arguments: [String], _ body: (ParsedArguments) async throws -> Int32) async -> Int32 {
        switch start(arguments) {
        case let .exit(code): return code
        case let .run(parsed):
            do { return try await body(parsed) } catch { return report(error) }
        }
    }

    /// `podgate VERB SUBCOMMAND [options]` with one subcommand, which may be
    /// left out: the arguments after it, or nil (reported) for another word.
    static func subcommand(_ word: String, of verb: String, _ arguments: [String]) -> [String]? {
        if arguments.first == word { return Array(arguments.dropFirst()) }
        guard let first = arguments.first, !first.hasPrefix("-") else { return arguments }
        Output.err("\(verb): unknown subcommand \"\(first)\"; use `\(verb) \(word)`")
        return nil
    }

    private enum Start { case run(ParsedArguments), exit(Int32) }

    private func start(_ arguments: [String]) -> Start {
        do {
            let parsed = try parseArguments(arguments, spec: self)
            guard !parsed.wantsHelp else { Output.out(helpText); return .exit(0) }
            return .run(parsed)
        } catch {
            return .exit(report(error))
        }
    }

    private func report(_ error: any Error) -> Int32 {
        Output.err("\(name): \(error)")
        return error is UsageError ? 2 : 1
    }
}
