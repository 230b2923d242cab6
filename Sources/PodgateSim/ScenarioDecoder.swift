import PodgateModel

/// DocumentValue -> Scenario. Every error is a `Diagnostic` naming the file and
/// the field: `seed.yaml: expect[2].port "http" is not a port number (1-65535)`.
public struct ScenarioDecoder {
    public let file: String

    public init(file: String) { self.file = file }

    public static func decode(_ document: DocumentValue, file: String) throws -> Scenario {
        var decoder = ScenarioDecoder(file: file)
        return try decoder.decodeScenario(document)
    }

    func error(_ field: String, _ message: String) -> Diagnostic {
        Diagnostic(object: file, field: field, message: message)
    }

    /// The places in a scenario that hold a map, for `fields`.
    enum Place: Hashable {
        case scenario, agent, external, step, delete, held, expectMap, probe, event
    }

    /// Every field the format (docs/scenario-format.md) has, by place. A new
    /// field is one entry here plus its decoding; anything else is an error
    /// naming the file and the field, so a misspelt scenario never passes by
    /// checking nothing. (`matrix:` rows are checked by decodeMatrix.)
    static let fields: [Place: Set<String>] = [
        .scenario: ["name", "description", "agent", "externals", "manifests", "expect", "steps", "probeTimeoutSeconds"],
        .agent: ["defaultInboundPolicy", "clusterNetworks", "allowFromHost"],
        .external: ["name", "ip"],
        .step: ["apply", "delete", "expect", "hold"],
        .held: ["from", "to", "port", "protocol", "family", "verdict"],
        .delete: ["kind", "namespace", "name", "apiVersion"],
        .expectMap: ["matrix"],
        .probe: ["from", "to", "port", "protocol", "family", "verdict", "event"],
        .event: ["where", "reason"],
    ]

    func rejectUnknown(_ value: DocumentValue, at field: String, _ place: Place) throws {
        let known = Self.fields[place] ?? []
        for entry in value.mapEntries ?? [] where !known.contains(entry.key) {
            let path = field.isEmpty ? entry.key : "\(field).\(entry.key)"
            throw error(path, "is not a field of the scenario format here (known: \(known.sorted().joined(separator: ", ")))")
        }
    }

    mutating func decodeScenario(_ doc: DocumentValue) throws -> Scenario {
        guard doc.mapEntries != nil else { throw error("", "a scenario is a map with name, manifests and expect") }
        try rejectUnknown(doc, at: "", .scenario)
        guard let name = doc["name"]?.string, !name.isEmpty else { throw error("name", "is required") }
        var scenario = Scenario(name: name)
        scenario.description = doc["description"]?.string
        if let agent = doc["agent"], !agent.isNull { scenario.agent = try decodeAgent(agent) }
        if let externals = doc["externals"], !externals.isNull { scenario.externals = try decodeExternals(externals) }
        if let manifests = doc["manifests"], !manifests.isNull {
            guard let text = manifests.string, manifests.mapEntries == nil else {
                throw error("manifests", "must be a string of YAML documents (use `manifests: |`)")
            }
            scenario.manifests = text
        }
        if let expect = doc["expect"], !expect.isNull { scenario.expect = try decodeExpect(expect, at: "expect") }
        if let steps = doc["steps"], !steps.isNull {
            guard let items = steps.list else { throw error("steps", "must be a list") }
            scenario.steps = try items.enumerated().map { try decodeStep($1, at: "steps[\($0)]") }
        }
        if let timeout = doc["probeTimeoutSeconds"], !timeout.isNull {
            guard let text = timeout.string, let seconds = Double(text), seconds > 0, seconds <= 60 else {
                throw error("probeTimeoutSeconds", "must be a number of seconds between 0 and 60")
            }
            scenario.probeTimeoutSeconds = seconds
        }
        // A held connection checks something too (cut or kept).
        let checks = scenario.expect.count + scenario.steps.reduce(0) { $0 + $1.expect.count + $1.hold.count }
        guard checks > 0 else {
            throw error("expect", "is empty, and so is every step's (and no step holds a connection): a scenario with no probe would check nothing")
        }
        return scenario
    }

    mutating func decodeAgent(_ value: DocumentValue) throws -> ScenarioAgentOptions {
        guard value.mapEntries != nil else { throw error("agent", "must be a map") }
        try rejectUnknown(value, at: "agent", .agent)
        var options = ScenarioAgentOptions()
        if let policy = value["defaultInboundPolicy"], !policy.isNull {
            guard let text = policy.string, let parsed = DefaultInboundPolicy(rawValue: text) else {
                let choices = DefaultInboundPolicy.allCases.map(\.rawValue).joined(separator: ", ")
                throw error("agent.defaultInboundPolicy", "\(quoted(policy)) is not one of \(choices)")
            }
            options.defaultInboundPolicy = parsed
        }
        if let networks = value["clusterNetworks"], !networks.isNull {
            // A single string with commas is accepted too, as on the command line.
            let items = networks.list ?? (networks.string?.split(separator: ",").map { .scalar(String($0), plain: false) } ?? [])
            guard !items.isEmpty || networks.list != nil else { throw error("agent.clusterNetworks", "must be a list of CIDRs") }
            options.clusterNetworks = try items.enumerated().map { index, item in
                guard let text = item.string?.trimmingWhitespace, let cidr = CIDR(text) else {
                    throw error("agent.clusterNetworks[\(index)]", "\(quoted(item)) is not a CIDR")
                }
                return cidr
            }
        }
        if let host = value["allowFromHost"], !host.isNull {
            guard let flag = host.bool ?? host.string.flatMap(Bool.init) else {
                throw error("agent.allowFromHost", "\(quoted(host)) is not true or false")
            }
            options.allowFromHost = flag
        }
        return options
    }

    mutating func decodeExternals(_ value: DocumentValue) throws -> [External] {
        guard let items = value.list else { throw error("externals", "must be a list of {name, ip}") }
        var seen: Set<String> = []
        return try items.enumerated().map { index, item in
            let field = "externals[\(index)]"
            try rejectUnknown(item, at: field, .external)
            guard let name = item["name"]?.string, !name.isEmpty else { throw error("\(field).name", "is required") }
            guard name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == "." }) else {
                throw error("\(field).name", "\"\(name)\" may hold only letters, digits, '-', '_' and '.'")
            }
            guard seen.insert(name).inserted else { throw error("\(field).name", "\"\(name)\" is used twice") }
            guard let text = item["ip"]?.string, let address = IPAddress(text), !text.contains("/") else {
                throw error("\(field).ip", "\(quoted(item["ip"])) is not an IPv4 or IPv6 address")
            }
            return External(name: name, address: address)
        }
    }

    mutating func decodeStep(_ value: DocumentValue, at field: String) throws -> Step {
        guard value.mapEntries != nil else { throw error(field, "must be a map with apply, delete and expect") }
        try rejectUnknown(value, at: field, .step)
        var step = Step()
        if let apply = value["apply"], !apply.isNull {
            guard let text = apply.string else { throw error("\(field).apply", "must be a string of YAML documents (use `apply: |`)") }
            step.apply = text
        }
        if let delete = value["delete"], !delete.isNull {
            guard let items = delete.list else { throw error("\(field).delete", "must be a list of {kind, namespace, name}") }
            step.delete = try items.enumerated().map { index, item in
                let path = "\(field).delete[\(index)]"
                try rejectUnknown(item, at: path, .delete)
                guard let kind = item["kind"]?.string, !kind.isEmpty else { throw error("\(path).kind", "is required") }
                guard let name = item["name"]?.string, !name.isEmpty else { throw error("\(path).name", "is required") }
                let namespace = kind == "Namespace" ? nil : (item["namespace"]?.string ?? "default")
                return ScenarioObjectKey(kind: kind, namespace: namespace, name: name)
            }
        }
        if let expect = value["expect"], !expect.isNull { step.expect = try decodeExpect(expect, at: "\(field).expect") }
        if let hold = value["hold"], !hold.isNull {
            guard let items = hold.list else { throw error("\(field).hold", "must be a list of {from, to, port, verdict: cut|kept}") }
            step.hold = try items.enumerated().map { try decodeHeld($1, at: "\(field).hold[\($0)]") }
        }
        return step
    }

    /// A held connection: a probe's fields with the verdict `cut` or `kept`.
    mutating func decodeHeld(_ value: DocumentValue, at field: String) throws -> HeldConnection {
        guard value.mapEntries != nil else { throw error(field, "must be a map {from, to, port, verdict: cut|kept}") }
        try rejectUnknown(value, at: field, .held)
        guard let raw = value["verdict"] else { throw error("\(field).verdict", "is required (cut or kept)") }
        guard let text = raw.string, text == "cut" || text == "kept" else {
            throw error("\(field).verdict", "\(quoted(raw)) is not cut or kept")
        }
        var entries = value.mapEntries ?? []
        entries.removeAll { $0.key == "verdict" }
        entries.append((key: "verdict", value: .scalar("allow", plain: true)))
        let probe = try decodeProbe(.map(entries), at: field)
        return HeldConnection(probe: probe, cut: text == "cut")
    }

    mutating func decodeExpect(_ value: DocumentValue, at field: String) throws -> [Probe] {
        if let items = value.list {
            return try items.enumerated().map { try decodeProbe($1, at: "\(field)[\($0)]") }
        }
        if let matrix = value["matrix"] {
            try rejectUnknown(value, at: field, .expectMap)
            return try decodeMatrix(matrix, at: "\(field).matrix")
        }
        throw error(field, "must be a list of probes or a map with `matrix:`")
    }

    mutating func decodeProbe(_ value: DocumentValue, at field: String) throws -> Probe {
        guard value.mapEntries != nil else { throw error(field, "must be a map {from, to, port, verdict}") }
        try rejectUnknown(value, at: field, .probe)
        let from = try decodeEndpoint(value["from"], at: "\(field).from")
        let to = try decodePodRef(value["to"], at: "\(field).to")
        let port = try decodePort(value["port"], at: "\(field).port")
        let transport = try decodeProtocol(value["protocol"], at: "\(field).protocol")
        var family = AddressFamily.ipv4
        if let raw = value["family"], !raw.isNull {
            guard let text = raw.string, let parsed = AddressFamily(rawValue: text) else {
                throw error("\(field).family", "\(quoted(raw)) is not ipv4, ipv6 or ipv4-mapped")
            }
            family = parsed
        }
        guard let raw = value["verdict"] else { throw error("\(field).verdict", "is required (allow or deny)") }
        guard let text = raw.string, let verdict = ExpectedVerdict(rawValue: text) else {
            throw error("\(field).verdict", "\(quoted(raw)) is not allow or deny")
        }
        var event: EventCheck?
        if let raw = value["event"], !raw.isNull {
            guard raw.mapEntries != nil else { throw error("\(field).event", "must be a map {where, reason}") }
            try rejectUnknown(raw, at: "\(field).event", .event)
            guard let sideText = raw["where"]?.string, let side = EventRecord.Side(rawValue: sideText), EventCheck.sides.contains(side) else {
                throw error("\(field).event.where", "\(quoted(raw["where"])) is not client or server")
            }
            guard let reasonText = raw["reason"]?.string, let reason = DecisionReason(name: reasonText),
                  EventCheck.reasons.contains(reason) else {
                let choices = EventCheck.reasons.map(\.description).joined(separator: ", ")
                throw error("\(field).event.reason", "\(quoted(raw["reason"])) is not one of \(choices)")
            }
            event = EventCheck(side: side, reason: reason)
        }
        return Probe(from: from, to: to, port: port, transport: transport, family: family,
                     verdict: verdict, event: event, field: field)
    }

    func decodeEndpoint(_ value: DocumentValue?, at field: String) throws -> Endpoint {
        guard let text = value?.string else { throw error(field, "is required: NAMESPACE/POD, host/NODE or external/NAME") }
        return try parseEndpoint(text, at: field)
    }

    func parseEndpoint(_ text: String, at field: String) throws -> Endpoint {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
            throw error(field, "\"\(text)\" is not NAMESPACE/POD, host/NODE or external/NAME")
        }
        switch parts[0] {
        case "host": return .host(node: parts[1])
        case "external": return .external(parts[1])
        default: return .pod(PodRef(namespace: parts[0], name: parts[1]))
        }
    }

    func decodePodRef(_ value: DocumentValue?, at field: String) throws -> PodRef {
        guard let text = value?.string else { throw error(field, "is required: NAMESPACE/POD") }
        return try parsePodRef(text, at: field)
    }

    func parsePodRef(_ text: String, at field: String) throws -> PodRef {
        guard case .pod(let ref) = try parseEndpoint(text, at: field) else {
            throw error(field, "\"\(text)\" must be a pod (NAMESPACE/POD): probes go to pods")
        }
        return ref
    }

    func decodePort(_ value: DocumentValue?, at field: String) throws -> Int {
        guard let value else { throw error(field, "is required") }
        guard let text = value.string, let port = Int(text), (1...65535).contains(port) else {
            throw error(field, "\(quoted(value)) is not a port number (1-65535)")
        }
        return port
    }

    func decodeProtocol(_ value: DocumentValue?, at field: String) throws -> TransportProtocol {
        guard let value, !value.isNull else { return .tcp }
        guard let text = value.string, let parsed = TransportProtocol(rawValue: text.uppercased()) else {
            throw error(field, "\(quoted(value)) is not TCP or UDP")
        }
        return parsed
    }

    func quoted(_ value: DocumentValue?) -> String {
        guard let value else { return "(missing)" }
        if let text = value.string { return "\"\(text)\"" }
        if value.isNull { return "null" }
        return value.list != nil ? "a list" : "a map"
    }
}
