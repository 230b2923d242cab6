import PodgateModel

/// The `podgate_policy` entries: for every target class a valid policy
/// selects, and every port prefix it covers there, one "covered" entry
/// (source NONE: the port is authorized-only) and one allow entry per source.
struct PolicyEntries {
    let classes: [TargetClassID: TargetClassKey]
    let identities: [IdentityID: IdentityKey]

    func build(policies: [(index: UInt32, policy: Policy, sources: Set<IdentityID>)]) -> [PolicyKey: PolicyValue] {
        var entries: [PolicyKey: PolicyValue] = [:]
        // A policy targets pods of its own namespace only: look at those, not
        // at every policy for every class (classes x policies was quadratic).
        var byNamespace: [String: [(index: UInt32, policy: Policy, sources: Set<IdentityID>)]] = [:]
        for item in policies { byNamespace[item.policy.namespace, default: []].append(item) }
        for (classID, key) in classes {
            guard let identity = identities[key.identity] else { continue }
            for (index, policy, sources) in byNamespace[identity.namespace] ?? []
            where policy.target.matches(identity.labels) {
                for prefix in PortPrefix.resolve(policy.ports, containerPorts: key.namedPorts) {
                    for source in [IdentityID.none] + sources.sorted() {
                        let key = PolicyKey(targetClass: classID, source: source, transport: prefix.transport,
                                            port: prefix.port, portPrefixBits: prefix.bits)
                        // The lowest index names the entry, whatever the order of work.
                        if entries[key].map({ index < $0.policyIndex }) ?? true {
                            entries[key] = PolicyValue(policyIndex: index)
                        }
                    }
                }
            }
        }
        return entries
    }
}
