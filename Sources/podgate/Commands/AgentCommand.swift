import PodgateAgent
import PodgateCLI
import PodgateDatapath

enum AgentCommand {
    static func run(_ arguments: [String]) async -> Int32 {
        let parsed: ParsedArguments
        switch parseCommand(arguments, AgentOptions.spec) {
        case let .success(value): parsed = value
        case let .failure(exit): return exit.code
        }
        do {
            let options = try AgentOptions(parsed)
            if options.cleanup {
                let left = try DatapathLoader.detachAndRemove(pinDirectory: options.pinDirectory)
                Output.out("removed the programs, links and maps pinned in \(options.pinDirectory)")
                if !left.isEmpty { Output.err("podgate agent: left in place (not podgate's): \(left.joined(separator: ", "))") }
                return 0
            }
            try await Agent(options: options).run()
            return 0
        } catch let error as UsageError {
            Output.err("podgate agent: \(error)")
            return 2
        } catch {
            Output.err("podgate agent: \(error)")
            return 1
        }
    }
}
