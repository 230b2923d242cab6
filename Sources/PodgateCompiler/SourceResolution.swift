import PodgateModel

/// Which source numbers (pod identities and CIDR classes) a policy's
/// `sources` allow. Entries are ORed; the fields of one entry are ANDed.
struct SourceResolution {
    let snapshot: ClusterSnapshot
    let identities: [IdentityID: IdentityKey]
    /// Every address claimed by a pod of each identity.
    let identityAddresses: [IdentityID: [IPAddress]]
    let cidrClasses: [CIDR: IdentityID]
    /// The identities of each namespace, and each namespace's labels, computed
    /// once: a policy's candidates are then the identities of the namespaces it
    /// can select, not every identity of the cluster (policies x identities
    /// made the compile quadratic: 13 s at 150k pods and 5k policies).
    private let identitiesByNamespace: [String: [(IdentityID, IdentityKey)]]
    private let namespaceLabels: [String: [String: String]]

    init(snapshot: ClusterSnapshot, identities: [IdentityID: IdentityKey], identityAddresses: [IdentityID: [IPAddress]],
         cidrClasses: [CIDR: IdentityID]) {
        self.snapshot = snapshot
        self.identities = identities
        self.identityAddresses = identityAddresses
        self.cidrClasses = cidrClasses
        var byNamespace: [String: [(IdentityID, IdentityKey)]] = [:]
        for (id, key) in identities { byNamespace[key.namespace, default: []].append((id, key)) }
        identitiesByNamespace = byNamespace
        var labels: [String: [String: String]] = [:]
        for namespace in byNamespace.keys { labels[namespace] = ClusterFacts.namespaceLabels(namespace, in: snapshot) }
        namespaceLabels = labels
    }

    /// The identities that can pass `entry`'s namespace condition (a superset; podFieldsMatch decides).
    private func candidates(_ entry: PolicySource, _ policyNamespace: String) -> [(IdentityID, IdentityKey)] {
        if let selector = entry.namespaceSelector {
            return identitiesByNamespace.flatMap { namespace, members in
                selector.matches(namespaceLabels[namespace] ?? [:]) ? members : []
            }
        }
        if entry.podSelector != nil { return identitiesByNamespace[policyNamespace] ?? [] }
        return identitiesByNamespace.values.flatMap { $0 }
    }

    func sources(of policy: Policy) -> Set<IdentityID> {
        var result: Set<IdentityID> = []
        for entry in policy.sources { result.formUnion(sources(of: entry, in: policy.namespace)) }
        return result
    }

    private func sources(of entry: PolicySource, in policyNamespace: String) -> Set<IdentityID> {
        let hasPodFields = entry.podSelector != nil || entry.namespaceSelector != nil || entry.serviceAccounts != nil
        guard hasPodFields else {
            // Only `networks`: the classes whose prefix lies inside a cidr and outside its excepts.
            guard let blocks = entry.networks else { return [] }
            return Set(cidrClasses.filter { prefix, _ in blocks.contains { Self.block($0, holds: prefix) } }.values)
        }
        var result: Set<IdentityID> = []
        for (id, identity) in candidates(entry, policyNamespace) where podFieldsMatch(entry, identity, policyNamespace) {
            // With `networks` too, a pod identity is allowed only when every
            // address of every pod of it is inside the networks: the map keys
            // sources by identity, so anything less would let an outside pod
            // of the same identity in (fail closed).
            if let blocks = entry.networks {
                let addresses = identityAddresses[id] ?? []
                guard addresses.allSatisfy({ address in blocks.contains { $0.contains(address) } }) else { continue }
            }
            result.insert(id)
        }
        return result
    }

    private func podFieldsMatch(_ entry: PolicySource, _ identity: IdentityKey, _ policyNamespace: String) -> Bool {
        if let selector = entry.namespaceSelector {
            let labels = namespaceLabels[identity.namespace] ?? ClusterFacts.namespaceLabels(identity.namespace, in: snapshot)
            guard selector.matches(labels) else { return false }
        } else if entry.podSelector != nil, identity.namespace != policyNamespace {
            return false
        }
        if let selector = entry.podSelector, !selector.matches(identity.labels) { return false }
        if let accounts = entry.serviceAccounts {
            let account = ServiceAccountRef(name: identity.serviceAccount, namespace: identity.namespace)
            guard accounts.contains(account) else { return false }
        }
        return true
    }

    /// A class qualifies for a block when all of its prefix is inside the
    /// cidr and none of it is inside an except (prefixes never overlap partially).
    static func block(_ block: NetworkBlock, holds prefix: CIDR) -> Bool {
        block.cidr.contains(prefix) && !block.except.contains { $0.contains(prefix) }
    }
}
