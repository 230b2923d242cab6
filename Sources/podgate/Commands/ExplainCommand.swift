import PodgateAgent
import PodgateCLI
import PodgateLog

/// `podgate explain`: the verdict for one connection and why, from the
/// agent's snapshot, cross-checked against the kernel's maps.
enum ExplainCommand {
    static let spec = CommandSpec(
        name: "podgate explain", summary: "Say whether a connection would be allowed, which rule decided, and whether the kernel's maps agree.",
        flags: [
            .init("from", value: "NS/POD|ADDRESS|host/NODE", help: "The source: a pod, an IP address, or a node's host network"),
            .init("to", value: "NS/POD", help: "The destination pod"),
            .init("port", value: "N", help: "The destination port"),
            .init("protocol", value: "TCP|UDP", default: "TCP", help: "The transport protocol"),
            .init("family", value: "ipv4|ipv6", default: "ipv4", help: "Which of the pods' addresses the connection uses"),
            CommonFlags.stateDir, OutputFormat.flag,
        ],
        details: "Ask the agent of the node the destination runs on: it checks its own kernel maps (server side, and\nthe client side when the source pod runs there too). Exit status: 0 explained, 3 the kernel disagrees.")

    static func run(_ arguments: [String]) -> Int32 {
        spec.run(arguments) { parsed in
            let format = try OutputFormat(parsed)
            guard let from = parsed.value("from") else { throw UsageError("--from is required (NS/POD, an IP address or host/NODE)") }
            guard let to = parsed.value("to") else { throw UsageError("--to is required (NS/POD)") }
            let port = try parsed.int("port", default: 0, range: 0...65535)
            guard port > 0 else { throw UsageError("--port is required (1-65535)") }
            let transport = (parsed.value("protocol") ?? "TCP").uppercased()
            guard transport == "TCP" || transport == "UDP" else { throw UsageError("--protocol must be TCP or UDP, not \"\(transport)\"") }
            let family = parsed.value("family") ?? "ipv4"
            guard family == "ipv4" || family == "ipv6" else { throw UsageError("--family must be ipv4 or ipv6, not \"\(family)\"") }
            let query = ExplainQuery(from: from, to: to, port: port, protocol: transport, family: family)
            guard let explanation = try ControlClient.call(stateDirectory: CommonFlags.stateDirectory(parsed),
                                                           ControlRequest(op: .explain, explain: query)).explain else {
                throw UsageError("the agent answered without an explanation")
            }
            switch format {
            case .json: Output.out(JSONLines.encode(explanation))
            case .table: Output.write(1, render(explanation))
            }
            if explanation.agreesWithKernel == false {
                Output.err("podgate explain: DISAGREEMENT: the kernel's maps decide differently from the policies; the maps are stale or wrong (see `podgate status`)")
                return 3
            }
            return 0
        }
    }

    static func render(_ e: Explanation) -> String {
        var out = "\(e.verdict.uppercased()): \(e.from)\(e.sourceAddress.map { " (\($0))" } ?? "") -> \(e.to)\(e.destinationAddress.map { " (\($0))" } ?? "") \(e.protocol)/\(e.port)\n"
        if e.reason != "none" { out += "reason:     \(e.reason)\n" }
        out += "rule:       \(e.rule)\n"
        out += "considered: \(e.policiesConsidered.isEmpty ? "no policy covers this port" : e.policiesConsidered.joined(separator: ", "))\n"
        if let matched = e.matchedPolicy { out += "matched:    \(matched)\n" }
        if let policy = e.defaultPolicy { out += "default:    \(policy) (from \(e.defaultPolicyOrigin ?? "?"))\n" }
        if e.verdict != "allowed" || !e.nearestMiss.isEmpty {
            out += "policies selecting \(e.to):\n"
            out += e.nearestMiss.isEmpty ? "  none\n" : e.nearestMiss.map { "  \($0)\n" }.joined()
        }
        func kernel(_ view: Explanation.KernelView?) -> String {
            guard let view else { return "not looked up" }
            return view.verdict + (view.reason == "none" ? "" : " (\(view.reason))") + (view.policy.map { " via \($0)" } ?? "")
        }
        out += "kernel:     server: \(kernel(e.kernelServer)); client: \(kernel(e.kernelClient))"
        switch e.agreesWithKernel {
        case true?: out += " -- agrees\n"
        case false?: out += " -- DISAGREES with the policies\n"
        case nil: out += " -- not compared\n"
        }
        for note in e.notes { out += "note:       \(note)\n" }
        return out
    }
}
