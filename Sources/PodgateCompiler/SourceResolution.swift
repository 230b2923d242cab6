import PodgateModel

/// Which source numbers (pod identities and CIDR classes) a policy's
/// `sources` allow. Entries are ORed; the fields of one entry are ANDed.
struct SourceResolution {
    let snapshot: ClusterSnapshot
    let identities: [IdentityID: IdentityKey]
    let cidrClasses: [CIDR: IdentityID]
    /// The class of each namespace that holds an identity (SourceClasses).
    let namespaceClasses: [String: IdentityID]
    /// The identities of each namespace, and each namespace's labels, computed
    /// once: a policy's candidates are then the identities of the namespaces it
    /// can select, not every identity of the cluster (policies x identities
    /// made the compile quadratic: 13 s at 150k pods and 5k policies).
    private let identitiesByNamespace: [String: [(IdentityID, IdentityKey)]]
    private let namespaceLabels: [String: [String: String]]

    init(snapshot: ClusterSnapshot, identities: [IdentityID: IdentityKey], cidrClasses: [CIDR: IdentityID],
         namespaceClasses: [String: IdentityID] = [:]) {
        self.snapshot = snapshot
        self.namespaceClasses = namespaceClasses
        self.identities = identities
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
        // Whole-namespace entries: classes (only policies that have one look at every namespace).
        var result: Set<IdentityID> = []
        if policy.sources.contains(where: \.isClassSource) {
            result = SourceClasses.sources(of: policy, namespaces: namespaceClasses.map { ($0.key, $0.value) },
                                           labels: { namespaceLabels[$0] ?? ClusterFacts.namespaceLabels($0, in: snapshot) })
        }
        for entry in policy.sources { result.formUnion(sources(of: entry, in: policy.namespace)) }
        return result
    }

    private func sources(of entry: PolicySource, in policyNamespace: String) -> Set<IdentityID> {
        // Whole namespaces are classes (SourceClasses), not identities.
        guard !entry.isClassSource else { return [] }
        guard entry.hasPodFields else {
            // Only `networks`: the classes whose prefix lies inside a cidr and outside its excepts.
            guard let blocks = entry.networks else { return [] }
            return Set(cidrClasses.filter { prefix, _ in blocks.contains { Self.block($0, holds: prefix) } }.values)
        }
        var result: Set<IdentityID> = []
        let networks = entry.networks.map(NetworkPlacement.canonical)
        for (id, identity) in candidates(entry, policyNamespace) where podFieldsMatch(entry, identity, policyNamespace) {
            // With `networks` too: the identities whose pods lie inside (NetworkPlacement
            // splits pods of the same labels by address), so the answer is per pod address.
            if let networks, !identity.networks.contains(networks) { continue }
            result.insert(id)
        }
        return result
    }

    private func podFieldsMatch(_ entry: PolicySource, _ identity: IdentityKey, _ policyNamespace: String) -> Bool {
        let labels = namespaceLabels[identity.namespace] ?? ClusterFacts.namespaceLabels(identity.namespace, in: snapshot)
        return SourceMatching.podFieldsMatch(entry, namespace: identity.namespace, labels: identity.labels,
                                             serviceAccount: identity.serviceAccount, namespaceLabels: labels,
                                             policyNamespace: policyNamespace)
    }

    /// A class qualifies for a block when all of its prefix is inside the
    /// cidr and none of it is inside an except (prefixes never overlap partially).
    static func block(_ block: NetworkBlock, holds prefix: CIDR) -> Bool {
        block.cidr.contains(prefix) && !block.except.contains { $0.contains(prefix) }
    }
}
