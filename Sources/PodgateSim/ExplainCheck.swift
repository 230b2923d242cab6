import FoundationEssentials
import PodgateModel

/// `podgate sim --explain`: after each round, asks the agent of each probe's
/// destination node what `podgate explain` says about the probe's
/// connection, and holds it to what really happened. A disagreement (with
/// the probe, or explain's own kernel cross-check) is a failure.
struct ExplainCheck {
    let executable: String
    let topology: Topology
    let fleet: AgentFleet

    struct Answer: Decodable {
        var verdict: String
        var reason: String
        var rule: String
        var agreesWithKernel: Bool?
    }

    /// Failure lines; empty when explain agreed with every probe that gave a result.
    func check(_ results: [ProbeResult]) throws -> [String] {
        var failures: [String] = []
        for result in results {
            try Interrupts.check()
            guard let allowed = result.allowed else { continue }
            let probe = result.probe
            guard let node = topology.pods[probe.to]?.pod.node,
                  let agent = fleet.agents.first(where: { $0.node == node }) else { continue }
            let from: String
            switch probe.from {
            case let .pod(ref): from = ref.description
            case let .host(node): from = "host/\(node)"
            case .external:
                guard let source = result.source else { continue }
                from = source.description
            }
            let arguments = ["explain", "--state-dir", agent.stateDirectory, "--from", from, "--to", probe.to.description,
                             "--port", "\(probe.port)", "--protocol", probe.transport.rawValue,
                             "--family", probe.family == .ipv6 ? "ipv6" : "ipv4", "-o", "json"]
            let (status, output) = try Processes.run(executable, arguments)
            let line = output.split(separator: "\n").first { $0.hasPrefix("{") }.map(String.init) ?? ""
            let prefix = "FAIL explain \(probe.field): \(probe.from) -> \(probe.to) \(probe.column): "
            guard let answer = try? JSONDecoder().decode(Answer.self, from: Data(line.utf8)) else {
                failures.append(prefix + "podgate explain failed (exit \(status)): \(output.trimmingWhitespace)")
                continue
            }
            let explained = answer.verdict != "denied"
            if explained != allowed {
                failures.append(prefix + "explain says \(answer.verdict) (\(answer.rule)) but the probe was \(allowed ? "allowed" : "denied")")
            } else if answer.agreesWithKernel == false || status == 3 {
                failures.append(prefix + "explain reports that the kernel's maps disagree with the policies")
            }
        }
        return failures
    }
}
