import PodgateAgent
import PodgateCLI
import PodgateDatapath
import PodgateModel

/// Builds the `maps dump` tables from what the kernel holds, naming numbers
/// with the agent's tables when it answered (`names` nil: raw numbers).
struct MapsDump {
    let realized: RealizedState
    let counters: DatapathCounters?
    let capacities: [String: UInt32]
    let names: NameTables?
    /// Keep only rows about these pods (`--namespace`, `--pod`); nil keeps all.
    let podFilter: ((String) -> Bool)?

    static let sections = ["endpoints", "identities", "addresses", "policy", "defaults", "counters"]

    func table(_ section: String) -> Table {
        switch section {
        case "endpoints": endpoints()
        case "identities": identities()
        case "addresses": addresses()
        case "policy": policy()
        case "defaults": defaults()
        default: countersTable()
        }
    }

    func keep(_ pods: [String]) -> Bool {
        guard let podFilter else { return true }
        return pods.contains(where: podFilter)
    }

    func name(ofIdentity id: IdentityID) -> String {
        switch id {
        case .none: return "(covered)"
        default:
            if let name = id.reservedName { return name }
            if let identity = names?.identities[id.description] {
                let labels = identity.labels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
                return "\(identity.namespace) {\(labels)}"
            }
            if let cidr = names?.cidrClasses[id.description] { return "cidr \(cidr)" }
            return id.isCIDRClass ? "cidr class" : "pod identity"
        }
    }

    func podsOf(identity id: IdentityID) -> [String] { names?.identities[id.description]?.pods ?? [] }
    func targetName(_ id: TargetClassID) -> String? {
        guard names != nil else { return nil }
        let pods = podsOf(targetClass: id)
        return pods.isEmpty ? "(no pod now)" : pods.joined(separator: ",")
    }
    func podsOf(targetClass id: TargetClassID) -> [String] { names?.targetClassPods[id.description] ?? [] }

    func endpoints() -> Table {
        var table = Table(title: "endpoints (podgate_endpts: local pod cgroups)",
                          columns: ["cgroup", "pod", "identity", "target class", "pod id", "default policy", "in cluster"])
        for (cgroup, value) in realized.endpoints.sorted(by: { $0.key < $1.key }) {
            let pod = names?.cgroups[cgroup.description]
            guard keep([pod].compactMap { $0 }) else { continue }
            let inCluster = [value.inCluster4 ? "ipv4" : nil, value.inCluster6 ? "ipv6" : nil].compactMap { $0 }
            table.rows.append([.number(cgroup.rawValue), pod.map(Cell.text) ?? .none, .number(UInt64(value.identity.rawValue)),
                               .number(UInt64(value.targetClass.rawValue)), .number(UInt64(value.podID)),
                               .text(value.defaultPolicy.rawValue), .text(inCluster.isEmpty ? "no" : inCluster.joined(separator: ","))])
        }
        return table
    }

    func identities() -> Table {
        var table = Table(title: "identities (sources named in podgate_endpts, podgate_ipcache, podgate_cidrs)",
                          columns: ["identity", "kind", "meaning", "pods"])
        var ids = Set<IdentityID>()
        realized.endpoints.values.forEach { ids.insert($0.identity) }
        realized.addresses.values.forEach { ids.insert($0.identity) }
        realized.policy.keys.forEach { if $0.source != .none { ids.insert($0.source) } }
        var cidrOf: [IdentityID: CIDR] = [:]
        for (cidr, value) in realized.cidrs { cidrOf[value.cidrClass] = cidr; ids.insert(value.cidrClass) }
        for id in ids.sorted() {
            let pods = podsOf(identity: id)
            guard keep(pods) else { continue }
            let kind = id.isPod ? "pod" : (id.isCIDRClass ? "cidr" : "reserved")
            var meaning = name(ofIdentity: id)
            if let cidr = cidrOf[id] {
                meaning = "cidr \(cidr)" + (realized.cidrs[cidr]?.inCluster == true ? " (cluster network)" : "")
            }
            table.rows.append([.number(UInt64(id.rawValue)), .text(kind), .text(meaning),
                               pods.isEmpty ? .none : .text(pods.joined(separator: ","))])
        }
        return table
    }

    func addresses() -> Table {
        var table = Table(title: "addresses (podgate_ipcache)", columns: ["address", "owner", "kind", "identity", "target class", "pod id", "default policy"])
        for (address, value) in realized.addresses.sorted(by: { $0.key.description < $1.key.description }) {
            let owner = names?.addresses[address.description]
            guard keep([owner].compactMap { $0 }) else { continue }
            let kind = switch value.kind { case .pod: "pod"; case .host: "host"; case .remoteNode: "remote-node" }
            table.rows.append([.text(address.description), owner.map(Cell.text) ?? .none, .text(kind),
                               .number(UInt64(value.identity.rawValue)),
                               value.targetClass.map { .number(UInt64($0.rawValue)) } ?? .none,
                               value.podID == 0 ? .none : .number(UInt64(value.podID)),
                               value.defaultPolicy.map { .text($0.rawValue) } ?? .none])
        }
        return table
    }

    func policy() -> Table {
        var table = Table(title: "policy (podgate_policy: allow entries; source (covered) makes the port authorized-only)",
                          columns: ["target class", "target", "source", "ports", "policy", "hits"])
        for (key, value) in realized.policy.sorted(by: { $0.key < $1.key }) {
            let target = targetName(key.targetClass)
            let sourcePods = podsOf(identity: key.source)
            guard keep(podsOf(targetClass: key.targetClass) + sourcePods) else { continue }
            let policyName = names?.policies[value.policyIndex.description] ?? "#\(value.policyIndex)"
            table.rows.append([.number(UInt64(key.targetClass.rawValue)), target.map(Cell.text) ?? .none,
                               .text("\(key.source.rawValue) \(name(ofIdentity: key.source))"), .text(Self.ports(key)),
                               .text(policyName), .number(realized.policyHits[key] ?? 0)])
        }
        return table
    }

    /// The port part of a policy key in words: `TCP port 8080`, `UDP ports 1000-1023`, `every port`.
    static func ports(_ key: PolicyKey) -> String {
        guard let transport = key.transport else { return "every port, TCP and UDP" }
        if key.portPrefixBits == 0 { return "every \(transport.rawValue) port" }
        let range = key.portRange
        return range.count == 1 ? "\(transport.rawValue) port \(range.lowerBound)" : "\(transport.rawValue) ports \(range.lowerBound)-\(range.upperBound)"
    }

    func defaults() -> Table {
        var table = Table(title: "defaults (each target class's default inbound policy, and the datapath config)",
                          columns: ["target class", "target", "default policy"])
        var seen: [TargetClassID: DefaultInboundPolicy] = [:]
        realized.endpoints.values.forEach { seen[$0.targetClass] = $0.defaultPolicy }
        realized.addresses.values.forEach { if let c = $0.targetClass, let d = $0.defaultPolicy { seen[c] = d } }
        for (targetClass, policy) in seen.sorted(by: { $0.key < $1.key }) {
            let target = targetName(targetClass)
            guard keep(podsOf(targetClass: targetClass)) else { continue }
            table.rows.append([.number(UInt64(targetClass.rawValue)), target.map(Cell.text) ?? .none, .text(policy.rawValue)])
        }
        if let config = realized.config {
            table.note = "config: abi \(PodgateVersion.abi), allow-from-host \(config.allowFromHost), unknown pods \(config.denyUnknownPods ? "denied" : "allowed")"
        } else {
            table.note = "config: not configured (abi_version 0): the programs allow everything"
        }
        return table
    }

    func countersTable() -> Table {
        var table = Table(title: "counters (podgate_counter, summed over CPUs)", columns: ["counter", "value"])
        guard let counters else { table.note = "counters unreadable"; return table }
        for (decision, value) in counters.decisions.sorted(by: { $0.key.description < $1.key.description }) {
            table.rows.append([.text("\(decision.location) \(decision.verdict) \(decision.reason)"), .number(value)])
        }
        table.rows.append([.text("events lost (ring buffer full)"), .number(counters.eventsLost)])
        table.rows.append([.text("spoofed packets dropped"), .number(counters.spoofDropped)])
        table.rows.append([.text("forged self-source packets dropped (inbound)"), .number(counters.forgedInbound)])
        table.rows.append([.text("forged local sources dropped at the edge"), .number(counters.edgeForged)])
        table.rows.append([.text("UDP replies passed"), .number(counters.repliesPassed)])
        return table
    }
}
