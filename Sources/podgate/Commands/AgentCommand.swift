import PodgateAgent
import PodgateCLI
import PodgateLog
import PodgateDatapath

enum AgentCommand {
    static func run(_ arguments: [String]) async -> Int32 {
        await AgentOptions.spec.run(arguments) { parsed in
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
        }
    }
}
