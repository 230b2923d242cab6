import Foundation
import PodgateAgent
import PodgateCLI
import PodgateModel
import PodgateLog
import PodgateDatapath

/// `podgate maps dump [SECTION]`: what the kernel holds right now, read
/// straight from the pinned maps through read-only descriptors, so it works
/// while the agent is down; names come from the agent when it answers.
enum MapsCommand {
    static let spec = CommandSpec(
        name: "podgate maps dump", summary: "Show what the kernel's podgate maps hold right now, read-only from the pins.",
        usage: "[endpoints|identities|addresses|policy|defaults|counters|all] [options]",
        flags: [CommonFlags.pinDir, CommonFlags.stateDir, CommonFlags.namespace, CommonFlags.pod, OutputFormat.flag],
        details: "Works while the agent is down (numbers only then); with the agent up, identities, cgroups,\naddresses and policy numbers are shown with pod and policy names. Policy entries show their hit counts.")

    static func run(_ arguments: [String]) -> Int32 {
        guard let arguments = CommandSpec.subcommand("dump", of: "podgate maps", arguments) else { return 2 }
        return spec.run(arguments) { parsed in
            let format = try OutputFormat(parsed)
            guard parsed.positional.count <= 1 else { throw UsageError("one section at most, not \(parsed.positional.joined(separator: " "))") }
            let section = parsed.positional.first ?? "all"
            guard section == "all" || MapsDump.sections.contains(section) else {
                throw UsageError("unknown section \"\(section)\": use \((MapsDump.sections + ["all"]).joined(separator: ", "))")
            }
            let pinDirectory = parsed.value("pin-dir") ?? AgentDefaults.pinDirectory
            guard FileManager.default.fileExists(atPath: pinDirectory) else {
                throw UsageError("no pinned maps at \(pinDirectory): pass --pin-dir with the agent's --pin-dir")
            }
            let maps = try DatapathMaps(pinDirectory: pinDirectory, readOnly: true)
            var names: NameTables?
            var nameProblem: String?
            do {
                names = try ControlClient.call(stateDirectory: CommonFlags.stateDirectory(parsed), ControlRequest(op: .names)).names
            } catch {
                nameProblem = "names unavailable: \(error)"
            }
            let filter = CommonFlags.podFilter(parsed)
            if filter != nil && names == nil {
                throw UsageError("--namespace and --pod need names from the running agent, and it did not answer (\(nameProblem ?? "")); drop them to see raw numbers")
            }
            let dump = MapsDump(realized: try maps.realizedState(), counters: try? maps.counters(),
                                capacities: (try? maps.capacities()) ?? [:], names: names, podFilter: filter)
            let tables = (section == "all" ? MapsDump.sections : [section]).map(dump.table)
            switch format {
            case .json:
                var object: [String: [[String: Cell]]] = [:]
                for (name, table) in zip(section == "all" ? MapsDump.sections : [section], tables) { object[name] = table.objects }
                let document = DumpJSON(pinDirectory: pinDirectory, namesAvailable: names != nil, note: nameProblem,
                                        unreadable: dump.realized.unreadable, sections: object)
                Output.out(JSONLines.encode(document))
            case .table:
                if let nameProblem { Output.out("# \(nameProblem)\n") }
                for table in tables {
                    Output.out("# \(table.title)")
                    Output.write(1, table.render())
                    if let note = table.note { Output.out("# \(note)") }
                    Output.out("")
                }
                for line in dump.realized.unreadable { Output.out("# unreadable entry: \(line)") }
            }
            return 0
        }
    }

    struct DumpJSON: Encodable {
        var pinDirectory: String
        var namesAvailable: Bool
        var note: String?
        var unreadable: [String]
        var sections: [String: [[String: Cell]]]
    }
}

enum JSONLines {
    static func encode<T: Encodable>(_ value: T, pretty: Bool = false) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = pretty ? [.sortedKeys, .withoutEscapingSlashes, .prettyPrinted] : [.sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(value) else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }
}
