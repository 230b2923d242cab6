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

/// Shared handling of --help and usage errors for every command: returns the
/// parsed arguments, or the exit status to end with (0 after --help, 2 on misuse).
func parseCommand(_ arguments: [String], _ spec: CommandSpec) -> Result<ParsedArguments, ExitStatus> {
    do {
        let parsed = try parseArguments(arguments, spec: spec)
        if parsed.wantsHelp {
            Output.out(spec.helpText)
            return .failure(ExitStatus(code: 0))
        }
        return .success(parsed)
    } catch {
        Output.err("\(spec.name): \(error)")
        return .failure(ExitStatus(code: 2))
    }
}

struct ExitStatus: Error { var code: Int32 }
