import PodgateModel
import PodgateSim

/// The simulator's commands. main.swift calls this first:
///
///     if let code = SimCommands.dispatch(CommandLine.arguments) { exit(code) }
///
/// `sim-helper` is hidden: the simulator runs it inside pods (listeners, probes).
enum SimCommands {
    /// Wired to PodgateManifests' YAMLParser.parse at merge time.
    nonisolated(unsafe) static var parseDocuments: Sim.ParseDocuments = { _ in
        throw SimError("no YAML parser is linked into this build yet (PodgateManifests)")
    }

    static func dispatch(_ arguments: [String]) -> Int32? {
        guard arguments.count > 1 else { return nil }
        switch arguments[1] {
        case "sim-helper": return SimHelper.main(arguments: Array(arguments.dropFirst(2)))
        case "sim": return Sim.main(arguments: Array(arguments.dropFirst(2)), executable: Sim.ownExecutable(),
                                    parseDocuments: parseDocuments)
        default: return nil
        }
    }
}
