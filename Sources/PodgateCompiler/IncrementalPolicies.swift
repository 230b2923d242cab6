import PodgateModel

/// Policies: their target classes, their sources, and the policy-map entries
/// that (target class x port prefix x source) gives, with the policies that
/// hold each entry.
extension IncrementalCompiler {
    mutating func setPolicy(_ ref: PolicyRef, _ policy: Policy?) {
        let old = policies[ref]
        guard old != policy else { return }
        // Same sources (a new port or target, the usual edit): keep them, redo the targets.
        if let old, let policy, old.namespace == policy.namespace, old.sources == policy.sources {
            for targetClass in Array((targetsOf[ref] ?? [:]).keys) { removeTarget(ref, targetClass) }
            policies[ref] = policy
            addTargets(ref, policy)
            return
        }
        if let old { removePolicy(ref, old) }
        policies[ref] = policy
        // Entries that split identities by address: the pods they can reach get placed again.
        let entries = policy.map(Self.networkEntries) ?? []
        if entries != networkEntries[ref] ?? [] {
            for entry in (networkEntries[ref] ?? []) + entries { dirtyPods.formUnion(podsReachable(by: entry.source, from: entry.policyNamespace)) }
            networkEntries[ref] = entries.isEmpty ? nil : entries
        }
        if let policy { addPolicy(ref, policy) } else { deletedPolicies.insert(ref) }
    }

    private mutating func removePolicy(_ ref: PolicyRef, _ policy: Policy) {
        for targetClass in Array((targetsOf[ref] ?? [:]).keys) { removeTarget(ref, targetClass) }
        for source in sourcesOf[ref] ?? [] { policiesWithSource[source]?.remove(ref) }
        targetsOf[ref] = nil
        sourcesOf[ref] = nil
        policiesByNamespace[policy.namespace]?.remove(ref)
        widePolicies.remove(ref)
        namespaceSelectorPolicies.remove(ref)
        namespaceClassPolicies.remove(ref)
        cidrPolicies.remove(ref)
        for prefix in Self.prefixes(of: policy) { releaseCIDR(prefix) }
    }

    private mutating func addPolicy(_ ref: PolicyRef, _ policy: Policy) {
        _ = allocation.policies.insert(ref)
        // Its CIDR classes first, so its own `networks` entries find them.
        for prefix in Self.prefixes(of: policy) { retainCIDR(prefix) }
        policiesByNamespace[policy.namespace, default: []].insert(ref)
        for entry in policy.sources {
            let hasPodFields = entry.podSelector != nil || entry.namespaceSelector != nil || entry.serviceAccounts != nil
            if entry.namespaceSelector != nil { namespaceSelectorPolicies.insert(ref) }
            if entry.namespaceSelector != nil || (entry.podSelector == nil && entry.serviceAccounts != nil) { widePolicies.insert(ref) }
            if !hasPodFields, entry.networks != nil { cidrPolicies.insert(ref) }
            if entry.isClassSource { namespaceClassPolicies.insert(ref) }
        }
        // Sources: the candidate identities (as SourceResolution picks them), then the CIDR classes.
        // Whole namespaces as classes: those holding an identity (numbers
        // from an earlier allocation may name namespaces now empty).
        var sources: Set<IdentityID> = []
        if namespaceClassPolicies.contains(ref) {
            let classes = allocation.namespaceClasses.ids.filter { identitiesByNamespace[$0.key] != nil }
                .map { ($0.key, IdentityID($0.value)) }
            sources = SourceClasses.sources(of: policy, namespaces: classes, labels: { self.labels(ofNamespace: $0) })
        }
        for id in candidateIdentities(of: policy) where policyMatches(ref, id) { sources.insert(id) }
        if cidrPolicies.contains(ref) {
            for (prefix, raw) in allocation.cidrClasses.ids where cidrMatches(policy, prefix) { sources.insert(IdentityID(raw)) }
        }
        sourcesOf[ref] = sources
        for source in sources { policiesWithSource[source, default: []].insert(ref) }
        addTargets(ref, policy)
    }

    /// The classes of the identities of its namespace that its target selects.
    private mutating func addTargets(_ ref: PolicyRef, _ policy: Policy) {
        for id in identitiesByNamespace[policy.namespace] ?? [] {
            guard let identity = identityKeys[id], policy.target.matches(identity.labels) else { continue }
            for targetClass in classesByIdentity[id] ?? [] { addTarget(ref, targetClass) }
        }
    }

    static func networkEntries(of policy: Policy) -> [NetworkEntry] {
        policy.sources.compactMap { source in
            guard source.hasPodFields, let networks = source.networks else { return nil }
            return NetworkEntry(source: source, policyNamespace: policy.namespace, networks: NetworkPlacement.canonical(networks))
        }
    }

    /// The pods of the namespaces an entry's pod fields can reach (a superset).
    func podsReachable(by entry: PolicySource, from policyNamespace: String) -> Set<PodRef> {
        var namespaces: [String] = []
        if let selector = entry.namespaceSelector {
            namespaces = podsByNamespace.keys.filter { selector.matches(labels(ofNamespace: $0)) }
        } else if entry.podSelector != nil {
            namespaces = [policyNamespace]
        } else {
            namespaces = (entry.serviceAccounts ?? []).map(\.namespace)
        }
        var result: Set<PodRef> = []
        for namespace in namespaces { result.formUnion(podsByNamespace[namespace] ?? []) }
        return result
    }

    /// Every prefix a policy names (`cidr` and `except`): each is a CIDR class.
    static func prefixes(of policy: Policy) -> Set<CIDR> {
        var prefixes: Set<CIDR> = []
        for source in policy.sources {
            for block in source.networks ?? [] {
                prefixes.insert(block.cidr)
                prefixes.formUnion(block.except)
            }
        }
        return prefixes
    }

    // MARK: - CIDR classes

    mutating func retainCIDR(_ prefix: CIDR) {
        releasedCIDRs.remove(prefix)
        if let count = cidrReferences[prefix] {
            cidrReferences[prefix] = count + 1
            return
        }
        cidrReferences[prefix] = 1
        guard let raw = allocation.cidrClasses.insert(prefix) else { return }
        let id = IdentityID(raw)
        setCIDREntry(prefix, CIDRValue(cidrClass: id, inCluster: settings.clusterNetworks.contains { $0.contains(prefix) }))
        cidrLengths[prefix.prefixLength, default: 0] += 1
        allEndpointsDirty = true
        for ref in cidrPolicies {
            if let policy = policies[ref], cidrMatches(policy, prefix) { addSource(ref, id) }
        }
    }

    mutating func releaseCIDR(_ prefix: CIDR) {
        guard let count = cidrReferences[prefix] else { return }
        cidrReferences[prefix] = count - 1
        if count == 1 { releasedCIDRs.insert(prefix) }
    }

    /// A CIDR class is a source of a `networks`-only entry whose block holds all of it.
    func cidrMatches(_ policy: Policy, _ prefix: CIDR) -> Bool {
        policy.sources.contains { entry in
            let hasPodFields = entry.podSelector != nil || entry.namespaceSelector != nil || entry.serviceAccounts != nil
            guard !hasPodFields, let blocks = entry.networks else { return false }
            return blocks.contains { SourceResolution.block($0, holds: prefix) }
        }
    }

    // MARK: - Identity sources

    /// The policies that can have a pod identity of `namespace` as a source.
    func candidatePolicies(forIdentityIn namespace: String) -> [PolicyRef] {
        Array(policiesByNamespace[namespace] ?? []) + widePolicies.filter { policies[$0]?.namespace != namespace }
    }

    /// The identities a policy's entries can reach (a superset; `policyMatches` decides).
    func candidateIdentities(of policy: Policy) -> Set<IdentityID> {
        var result: Set<IdentityID> = []
        // Whole-namespace entries hold classes, not identities.
        for entry in policy.sources where !entry.isClassSource {
            if let selector = entry.namespaceSelector {
                for (namespace, ids) in identitiesByNamespace where selector.matches(labels(ofNamespace: namespace)) { result.formUnion(ids) }
            } else if entry.podSelector != nil {
                result.formUnion(identitiesByNamespace[policy.namespace] ?? [])
            } else if entry.serviceAccounts != nil {
                for accounts in entry.serviceAccounts ?? [] { result.formUnion(identitiesByNamespace[accounts.namespace] ?? []) }
            }
        }
        return result
    }

    /// Whether any entry of the policy admits the identity (entries ORed, fields ANDed).
    func policyMatches(_ ref: PolicyRef, _ id: IdentityID) -> Bool {
        guard let policy = policies[ref], let identity = identityKeys[id] else { return false }
        return policy.sources.contains { entryMatches($0, id, identity, policyNamespace: policy.namespace) }
    }

    private func entryMatches(_ entry: PolicySource, _ id: IdentityID, _ identity: IdentityKey, policyNamespace: String) -> Bool {
        // Whole namespaces are classes (SourceClasses), not identities.
        guard entry.hasPodFields, !entry.isClassSource,
              SourceMatching.podFieldsMatch(entry, namespace: identity.namespace, labels: identity.labels,
                                            serviceAccount: identity.serviceAccount,
                                            namespaceLabels: labels(ofNamespace: identity.namespace),
                                            policyNamespace: policyNamespace) else { return false }
        // With `networks` too: the identities whose pods lie inside (NetworkPlacement).
        if let networks = entry.networks, !identity.networks.contains(NetworkPlacement.canonical(networks)) { return false }
        return true
    }

    mutating func reevaluate(_ ref: PolicyRef, _ id: IdentityID) {
        let matches = policyMatches(ref, id)
        let holds = sourcesOf[ref]?.contains(id) ?? false
        if matches, !holds { addSource(ref, id) }
        if !matches, holds { removeSource(ref, id) }
    }

    /// A namespace's labels changed: its identities against every namespace selector.
    mutating func reevaluateNamespace(_ namespace: String) {
        // Its class against every whole-namespace entry.
        if let raw = allocation.namespaceClasses[namespace], identitiesByNamespace[namespace] != nil {
            let id = IdentityID(raw)
            let labels = labels(ofNamespace: namespace)
            for ref in namespaceClassPolicies {
                guard let policy = policies[ref] else { continue }
                let matches = SourceClasses.selects(policy, namespace, labels: labels)
                let holds = sourcesOf[ref]?.contains(id) ?? false
                if matches, !holds { addSource(ref, id) }
                if !matches, holds { removeSource(ref, id) }
            }
        }
        guard !namespaceSelectorPolicies.isEmpty else { return }
        for id in identitiesByNamespace[namespace] ?? [] {
            for ref in namespaceSelectorPolicies { reevaluate(ref, id) }
        }
    }

    // MARK: - Entries

    mutating func addSource(_ ref: PolicyRef, _ source: IdentityID) {
        guard sourcesOf[ref]?.insert(source).inserted ?? false, let index = allocation.policies[ref] else { return }
        policiesWithSource[source, default: []].insert(ref)
        for (targetClass, prefixes) in targetsOf[ref] ?? [:] {
            for prefix in prefixes { hold(Self.key(targetClass, source, prefix), index) }
        }
    }

    mutating func removeSource(_ ref: PolicyRef, _ source: IdentityID) {
        guard sourcesOf[ref]?.remove(source) != nil, let index = allocation.policies[ref] else { return }
        policiesWithSource[source]?.remove(ref)
        if policiesWithSource[source]?.isEmpty == true { policiesWithSource[source] = nil }
        for (targetClass, prefixes) in targetsOf[ref] ?? [:] {
            for prefix in prefixes { release(Self.key(targetClass, source, prefix), index) }
        }
    }

    mutating func addTarget(_ ref: PolicyRef, _ targetClass: TargetClassID) {
        guard targetsOf[ref]?[targetClass] == nil, let policy = policies[ref], let key = classKeys[targetClass],
              let index = allocation.policies[ref] else { return }
        let prefixes = PortPrefix.resolve(policy.ports, containerPorts: key.namedPorts)
        targetsOf[ref, default: [:]][targetClass] = prefixes
        policiesTargeting[targetClass, default: []].insert(ref)
        let sources = [IdentityID.none] + (sourcesOf[ref] ?? [])
        for prefix in prefixes {
            for source in sources { hold(Self.key(targetClass, source, prefix), index) }
        }
    }

    mutating func removeTarget(_ ref: PolicyRef, _ targetClass: TargetClassID) {
        guard let prefixes = targetsOf[ref]?.removeValue(forKey: targetClass), let index = allocation.policies[ref] else { return }
        policiesTargeting[targetClass]?.remove(ref)
        let sources = [IdentityID.none] + (sourcesOf[ref] ?? [])
        for prefix in prefixes {
            for source in sources { release(Self.key(targetClass, source, prefix), index) }
        }
    }

    static func key(_ targetClass: TargetClassID, _ source: IdentityID, _ prefix: PortPrefix) -> PolicyKey {
        PolicyKey(targetClass: targetClass, source: source, transport: prefix.transport, port: prefix.port, portPrefixBits: prefix.bits)
    }

    /// One more policy holds the entry; the lowest index names it.
    private mutating func hold(_ key: PolicyKey, _ index: UInt32) {
        holders[key, default: []].append(index)
        let lowest = holders[key]!.min()!
        setPolicyEntry(key, PolicyValue(policyIndex: lowest))
    }

    private mutating func release(_ key: PolicyKey, _ index: UInt32) {
        guard var indexes = holders[key], let position = indexes.firstIndex(of: index) else { return }
        indexes.remove(at: position)
        if indexes.isEmpty {
            holders[key] = nil
            setPolicyEntry(key, nil)
        } else {
            holders[key] = indexes
            setPolicyEntry(key, PolicyValue(policyIndex: indexes.min()!))
        }
    }
}
