import PodgateCLI
import PodgateSim

enum DemoCommand {
    static let spec = CommandSpec(
        name: "podgate demo", summary: "Replay the seed walkthrough on a simulated node, explained step by step.", usage: "",
        details: """
        Builds a node from a network namespace and cgroups (pods frontend and backend in a
        namespace whose default inbound policy is deny), runs the real agent on it, shows a
        refused connection and the event that reports it, applies the NetworkAuthenticationPolicy
        that opens backend:8080 to frontend, shows 8080 allowed and 9000 still refused, and
        removes everything it created. Needs root.
        """)

    static func run(_ arguments: [String]) -> Int32 {
        spec.run(arguments) { parsed in
            guard parsed.positional.isEmpty else { throw UsageError("takes no arguments (see podgate demo --help)") }
            return Demo.run(executable: Sim.ownExecutable(), parseDocuments: SimCommand.parseDocuments)
        }
    }
}
