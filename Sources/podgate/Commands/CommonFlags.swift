import PodgateAgent
import PodgateCLI
import PodgateLog

/// Flags shared by the commands that talk to an agent or read its pins.
enum CommonFlags {
    static let stateDir = CommandSpec.Flag("state-dir", value: "DIR", default: ControlClient.defaultStateDirectory,
                                           help: "The agent's --state-dir: its control socket is DIR/agent.sock")
    static let pinDir = CommandSpec.Flag("pin-dir", value: "PATH", default: "/sys/fs/bpf/podgate",
                                         help: "The agent's --pin-dir: where its maps are pinned")
    static let namespace = CommandSpec.Flag("namespace", value: "NS", help: "Only what concerns pods of namespace NS")
    static let pod = CommandSpec.Flag("pod", value: "[NS/]NAME", help: "Only what concerns this pod")

    static func stateDirectory(_ arguments: ParsedArguments) -> String {
        arguments.value("state-dir") ?? ControlClient.defaultStateDirectory
    }

    /// `--namespace` and `--pod` as a predicate on `namespace/name`; nil when neither is given.
    static func podFilter(_ arguments: ParsedArguments) -> ((String) -> Bool)? {
        let namespace = arguments.value("namespace")
        let pod = arguments.value("pod")
        guard namespace != nil || pod != nil else { return nil }
        let filter = EventFilter(namespace: namespace, pod: pod)
        return { name in
            let parts = name.split(separator: "/", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { return false }
            if let namespace, parts[0] != namespace { return false }
            if let pod = filter.pod {
                if pod.contains("/") { return name == pod }
                return parts[1] == pod
            }
            return true
        }
    }

    /// Runs a command body, turning errors into one clear line and an exit status.
    static func run(_ name: String, _ body: () throws -> Int32) -> Int32 {
        do {
            return try body()
        } catch let error as UsageError {
            Output.err("\(name): \(error)")
            return 2
        } catch {
            Output.err("\(name): \(error)")
            return 1
        }
    }
}
