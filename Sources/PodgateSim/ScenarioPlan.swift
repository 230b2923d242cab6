import PodgateModel

/// One round of probes: the objects in force, where every pod sits, and what to check.
public struct Round: Sendable, Equatable {
    /// `expect` for the first round, `steps[k]` for the later ones.
    public var title: String
    public var manifests: ScenarioManifests
    public var pods: [SimPod]
    public var addresses: [PodRef: [IPAddress]]
    public var probes: [Probe]
    /// Opened in the round before, held across this round's change (`hold`).
    public var held: [HeldConnection] = []
}

/// A scenario checked against its manifests: every probe names a pod, node or
/// external that exists in its round and holds an address of the probe's family.
public struct ScenarioPlan: Sendable, Equatable {
    public var file: String
    public var scenario: Scenario
    public var nodes: [String]
    public var rounds: [Round]

    public typealias ParseDocuments = @Sendable (String) throws -> [DocumentValue]

    public init(scenario: Scenario, file: String, parseDocuments: ParseDocuments) throws {
        self.file = file
        self.scenario = scenario
        func parse(_ text: String, origin: String) throws -> [DocumentValue] {
            do { return try parseDocuments(text) } catch let error as Diagnostic { throw error } catch {
                throw Diagnostic(object: file, field: origin, message: "is not valid YAML: \(error)")
            }
        }

        // The objects of every round first: nodes and given addresses span the whole run.
        var states: [(title: String, manifests: ScenarioManifests, probes: [Probe], held: [HeldConnection])] = []
        var current = ScenarioManifests()
        try current.apply(parse(scenario.manifests, origin: "manifests"), origin: "manifests", file: file)
        states.append(("expect", current, scenario.expect, []))
        for (index, step) in scenario.steps.enumerated() {
            if let apply = step.apply {
                try current.apply(parse(apply, origin: "steps[\(index)].apply"), origin: "steps[\(index)].apply", file: file)
            }
            for (d, key) in step.delete.enumerated() { try current.delete(key, at: "steps[\(index)].delete[\(d)]", file: file) }
            states.append(("steps[\(index)]", current, step.expect, step.hold))
        }
        let podsPerRound = try states.map { state in
            try state.manifests.pods.map { try SimPod(document: $0.value, key: $0.key, file: file) }
        }

        var nodes: [String] = []
        func addNode(_ name: String) { if !nodes.contains(name) { nodes.append(name) } }
        for pods in podsPerRound { pods.forEach { addNode($0.node) } }
        for state in states {
            for probe in state.probes {
                if case .host(let node) = probe.from {
                    guard SimPod.isUsableNodeName(node) else {
                        throw Diagnostic(object: file, field: "\(probe.field).from", message: "\"host/\(node)\" is not a usable node name")
                    }
                    addNode(node)
                }
            }
        }
        if nodes.isEmpty { nodes = [SimPod.defaultNode] }
        self.nodes = nodes

        let given = Set(podsPerRound.flatMap { $0.filter { !$0.hostNetwork }.flatMap(\.givenAddresses) })
        var plan = try AddressPlan(nodes: nodes, externals: scenario.externals, reserved: given, file: file)
        rounds = []
        for (state, pods) in zip(states, podsPerRound) {
            try plan.place(pods, file: file)
            let round = Round(title: state.title, manifests: state.manifests, pods: pods, addresses: plan.pods, probes: state.probes,
                              held: state.held)
            for probe in state.probes { try ScenarioPlan.check(probe, in: round, plan: plan, file: file) }
            // A held connection is opened before the change: its pods must exist then.
            if let before = rounds.last {
                for held in state.held { try ScenarioPlan.check(held.probe, in: before, plan: plan, file: file) }
            }
            rounds.append(round)
        }
    }

    static func check(_ probe: Probe, in round: Round, plan: AddressPlan, file: String) throws {
        func fail(_ field: String, _ message: String) -> Diagnostic { Diagnostic(object: file, field: "\(probe.field)\(field)", message: message) }
        let needsIPv6 = probe.family == .ipv6
        let familyName = needsIPv6 ? "IPv6" : "IPv4"
        let hint = needsIPv6 ? " (give it annotation \(SimPod.dualStackAnnotation): \"true\" or an IPv6 status.podIPs entry)" : ""
        guard let target = round.addresses[probe.to] else {
            throw fail(".to", "\"\(probe.to)\" is not a pod of the scenario\(round.title == "expect" ? "" : " at \(round.title)")")
        }
        guard target.contains(where: { $0.isIPv4 != needsIPv6 }) else {
            throw fail(".to", "\"\(probe.to)\" has no \(familyName) address for family \(probe.family.rawValue)\(hint)")
        }
        switch probe.from {
        case .pod(let ref):
            guard let source = round.addresses[ref] else {
                throw fail(".from", "\"\(ref)\" is not a pod of the scenario\(round.title == "expect" ? "" : " at \(round.title)")")
            }
            guard source.contains(where: { $0.isIPv4 != needsIPv6 }) else {
                throw fail(".from", "\"\(ref)\" has no \(familyName) address for family \(probe.family.rawValue)\(hint)")
            }
        case .external(let name):
            guard let external = plan.externals.first(where: { $0.name == name }) else {
                let names = plan.externals.map(\.name).joined(separator: ", ")
                throw fail(".from", "\"external/\(name)\" is not one of the scenario's externals (\(names.isEmpty ? "none" : names))")
            }
            guard external.address.isIPv4 != needsIPv6 else {
                throw fail(".from", "external/\(name) has \(external.address), which cannot reach an \(familyName) address")
            }
        case .host:
            break  // nodes hold both families
        }
    }
}
