import PodgateAgent
import PodgateCLI
import PodgateLog
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
                let report = try DatapathLoader.cleanup(pinDirectory: options.pinDirectory)
                let directory = options.pinDirectory
                guard report.existed else {
                    Output.out("nothing to clean up: \(directory) does not exist")
                    return 0
                }
                let removed = report.removed.filter { !$0.isEmpty }
                if removed.isEmpty {
                    Output.out("nothing of podgate's to remove in \(directory)")
                } else {
                    let links = removed.filter { $0.hasPrefix("link_") }.count
                    Output.out("removed from \(directory) (\(links) links detached, \(removed.count - links) pins): \(removed.joined(separator: " "))")
                }
                if report.removed.contains("") { Output.out("removed \(directory)") }
                if !report.left.isEmpty {
                    Output.out("left in place (not podgate's): \(report.left.joined(separator: " ")); kept \(directory)")
                }
                return 0
            }
            try await Agent(options: options, datapath: KernelDatapath(options: options),
                            source: Agent.clusterSource(for: options)).run()
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
