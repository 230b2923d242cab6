import PodgateAgent
import PodgateCLI
import PodgateModel
import PodgateLog

/// Flags shared by the commands that talk to an agent or read its pins.
enum CommonFlags {
    static let stateDir = CommandSpec.Flag("state-dir", value: "DIR", default: AgentDefaults.stateDirectory,
                                           help: "The agent's --state-dir: its control socket is DIR/agent.sock")
    static let pinDir = CommandSpec.Flag("pin-dir", value: "PATH", default: AgentDefaults.pinDirectory,
                                         help: "The agent's --pin-dir: where its maps are pinned")
    static let namespace = CommandSpec.Flag("namespace", value: "NS", help: "Only what concerns pods of namespace NS")
    static let pod = CommandSpec.Flag("pod", value: "[NS/]NAME", help: "Only what concerns this pod")

    static func stateDirectory(_ arguments: ParsedArguments) -> String {
        arguments.value("state-dir") ?? AgentDefaults.stateDirectory
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
}
