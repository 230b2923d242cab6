import PodgateManifests
import PodgateModel
import PodgateSim

/// `podgate sim` and the hidden `podgate sim-helper` that the simulator runs
/// inside simulated pods (listeners, probes). The helper stays synchronous:
/// it enters a network namespace with setns, which is per thread.
enum SimCommand {
    static let parseDocuments: Sim.ParseDocuments = { text in try YAMLParser.parse(text) }

    static func run(_ arguments: [String]) -> Int32 {
        Sim.main(arguments: arguments, executable: Sim.ownExecutable(), parseDocuments: parseDocuments)
    }

    static func helper(_ arguments: [String]) -> Int32 { HelperCommand.run(arguments) }
}
