import Foundation
import PodgateAgent
import PodgateCLI
import PodgateLog

/// `podgate status`: the running agent's health in one screen.
enum StatusCommand {
    static let spec = CommandSpec(
        name: "podgate status", summary: "Show the agent's version, attached programs, map fill, sync times, invalid policies and event loss.",
        flags: [CommonFlags.stateDir, OutputFormat.flag])

    static func run(_ arguments: [String]) -> Int32 {
        spec.run(arguments) { parsed in
            let format = try OutputFormat(parsed)
            guard let report = try ControlClient.call(stateDirectory: CommonFlags.stateDirectory(parsed), ControlRequest(op: .status)).status else {
                throw UsageError("the agent answered without a status")
            }
            switch format {
            case .json: Output.out(JSONLines.encode(report))
            case .table: Output.write(1, render(report))
            }
            return 0
        }
    }

    static func render(_ report: StatusReport) -> String {
        var out = """
            agent:      podgate \(report.version) (BPF ABI \(report.abiVersion)) on node \(report.node), up since \(report.startedAt)
            ready:      \(report.ready ? "yes, the first full sync is in the kernel" : "no, the first sync has not reached the kernel")
            pins:       \(report.pinDirectory)
            state:      \(report.stateDirectory)\(report.healthAddress.map { "   http: http://\($0)/metrics" } ?? "")

            """
        var programs = Table(title: "programs", columns: ["hook", "program ids", "cgroup"])
        for program in report.programs {
            programs.rows.append([.text(program.hook), .text(program.programIDs.isEmpty ? "NOT ATTACHED" : program.programIDs.map(String.init).joined(separator: ",")),
                                  .text(program.cgroup)])
        }
        out += "\nprograms attached (through pinned links):\n" + programs.render()
        var maps = Table(title: "maps", columns: ["map", "entries", "capacity", "fill"])
        for map in report.maps {
            let fill = map.capacity == 0 ? "-" : String(format: "%.2f%%", 100 * Double(map.entries) / Double(map.capacity))
            maps.rows.append([.text(map.map), .number(UInt64(map.entries)), .number(UInt64(map.capacity)), .text(fill)])
        }
        out += "\nmaps:\n" + maps.render()
        let c = report.counts
        out += "\ncounts:     \(c.pods) pods (\(c.localPods) local), \(c.identities) identities, \(c.targetClasses) target classes, "
            + "\(c.policies) valid policies, \(c.endpoints) endpoints, \(c.addresses) addresses, \(c.cidrs) cidrs, \(c.policyEntries) policy entries\n"
        out += "last sync:  " + (report.sync.isEmpty ? "never" : report.sync.map { "\($0.source) \($0.time ?? "never")" }.joined(separator: ", ")) + "\n"
        let e = report.events
        out += "events:     \(e.emitted) emitted, \(e.lostInKernel) lost in the kernel (ring buffer full), "
            + "\(e.skippedBySubscribers) skipped by slow readers, \(e.subscribers) reader(s) now\n"
        if let revocation = report.revocation { out += "revocation: \(revocation)\n" }
        out += "\ninvalid policies (\(report.invalidPolicies.count)):\n"
        out += report.invalidPolicies.isEmpty ? "  none\n" : report.invalidPolicies.map { "  \($0)\n" }.joined()
        if !report.problems.isEmpty {
            out += "\nother problems (\(report.problems.count)):\n" + report.problems.map { "  \($0)\n" }.joined()
        }
        return out
    }
}
