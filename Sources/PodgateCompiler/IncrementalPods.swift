import PodgateModel

/// Pods, namespaces and cgroups: identities, target classes, address and
/// endpoint entries.
extension IncrementalCompiler {
    mutating func setPod(_ ref: PodRef, _ pod: Pod?) {
        let old = pods[ref]
        guard old != pod else { return }
        if let old {
            for address in old.addresses {
                claims[address]?.remove(ref)
                if claims[address]?.isEmpty == true { claims[address] = nil }
            }
            dirtyAddresses.formUnion(old.addresses)
        }
        pods[ref] = pod
        if let pod {
            for address in pod.addresses { claims[address, default: []].insert(ref) }
            dirtyAddresses.formUnion(pod.addresses)
            podsByNamespace[ref.namespace, default: []].insert(ref)
            _ = allocation.pods.insert(ref)
        } else {
            podsByNamespace[ref.namespace]?.remove(ref)
            if podsByNamespace[ref.namespace]?.isEmpty == true { podsByNamespace[ref.namespace] = nil }
            deletedPods.insert(ref)
        }
        dirtyPods.insert(ref)
        dirtyEndpoints.insert(ref)
    }

    mutating func setNamespace(_ name: String, _ namespace: Namespace?) {
        let old = namespaces[name]
        guard old != namespace else { return }
        namespaces[name] = namespace
        if old?.labels != namespace?.labels {
            namespaceLabels[name] = namespace.map { ClusterFacts.namespaceLabels(name, in: ClusterSnapshot(namespaces: [name: $0])) }
            dirtyNamespaceLabels.insert(name)
            // Entries with a namespace selector and networks may place its pods elsewhere.
            if !networkEntries.isEmpty { dirtyPods.formUnion(podsByNamespace[name] ?? []) }
        }
        if old?.defaultInboundPolicy != namespace?.defaultInboundPolicy {
            dirtyPods.formUnion(podsByNamespace[name] ?? [])
            namespaceProblems[name] = nil
            if let raw = namespace?.defaultInboundPolicy, DefaultInboundPolicy(rawValue: raw) == nil {
                namespaceProblems[name] = ClusterFacts.unknownValue(raw, object: "Namespace \(name)")
            }
        }
    }

    mutating func setCgroup(_ ref: PodRef, _ cgroup: CgroupID?) {
        let old = localCgroups[ref]
        guard old != cgroup else { return }
        if let old { setEndpointEntry(old, nil) }
        localCgroups[ref] = cgroup
        dirtyEndpoints.insert(ref)
    }

    /// The labels namespace selectors see (a namespace with no object has only its name).
    func labels(ofNamespace name: String) -> [String: String] {
        namespaceLabels[name] ?? ClusterFacts.namespaceLabels(name, in: ClusterSnapshot())
    }

    // MARK: - Identities and classes

    /// A pod's default policy, identity and class, from its current object.
    mutating func refreshPod(_ ref: PodRef) {
        let pod = pods[ref]
        let old = podFacts[ref] ?? PodFacts()
        var new = PodFacts()
        podProblems[ref] = nil
        unnumberedPods[ref] = nil
        if let pod, !pod.hostNetwork {
            let namespace = namespaces[pod.namespace].map { [pod.namespace: $0] } ?? [:]
            let resolved = ClusterFacts.defaultPolicy(of: pod, in: ClusterSnapshot(namespaces: namespace), settings: settings)
            new.defaultPolicy = resolved.policy
            if !resolved.problems.isEmpty { podProblems[ref] = resolved.problems }
            let identityKey = placementKey(of: pod)
            if let identity = acquireIdentity(identityKey, ref) {
                new.identity = identity
                new.targetClass = acquireClass(TargetClassKey(identity: identity, ports: pod.ports, defaultPolicy: resolved.policy))
            } else {
                unnumberedPods[ref] = identityKey
            }
        }
        if let targetClass = old.targetClass { releaseClass(targetClass) }
        if let identity = old.identity, identity != new.identity { releaseIdentity(identity, ref) }
        podFacts[ref] = pod == nil ? nil : new
        if old != new {
            dirtyAddresses.formUnion(pod?.addresses ?? [])
            dirtyEndpoints.insert(ref)
        }
    }

    /// `NetworkPlacement.key(of:)` over the entries held here: the network
    /// lists whose entry's pod fields match the pod and that hold all its addresses.
    func placementKey(of pod: Pod) -> IdentityKey {
        var key = IdentityKey(pod)
        guard !networkEntries.isEmpty, !pod.addresses.isEmpty else { return key }
        var inside: Set<[NetworkBlock]> = []
        let namespaceLabels = labels(ofNamespace: pod.namespace)
        for entries in networkEntries.values {
            for entry in entries where !inside.contains(entry.networks) {
                guard NetworkPlacement.inside(pod.addresses, entry.networks),
                      SourceMatching.podFieldsMatch(entry.source, namespace: pod.namespace, labels: pod.labels,
                                                    serviceAccount: pod.serviceAccount, namespaceLabels: namespaceLabels,
                                                    policyNamespace: entry.policyNamespace) else { continue }
                inside.insert(entry.networks)
            }
        }
        key.networks = inside.sorted { NetworkPlacement.describe($0) < NetworkPlacement.describe($1) }
        return key
    }

    mutating func acquireIdentity(_ key: IdentityKey, _ ref: PodRef) -> IdentityID? {
        guard let raw = allocation.identities.insert(key) else { return nil }
        let id = IdentityID(raw)
        releasedIdentities.remove(id)
        if identityKeys[id] != nil {
            identityMembers[id, default: []].insert(ref)
            return id
        }
        identityKeys[id] = key
        identityMembers[id] = [ref]
        if identitiesByNamespace[key.namespace] == nil { acquireNamespaceClass(key.namespace) }
        identitiesByNamespace[key.namespace, default: []].insert(id)
        for policy in candidatePolicies(forIdentityIn: key.namespace) where policyMatches(policy, id) {
            addSource(policy, id)
        }
        return id
    }

    mutating func releaseIdentity(_ id: IdentityID, _ ref: PodRef) {
        identityMembers[id]?.remove(ref)
        if identityMembers[id]?.isEmpty ?? true { releasedIdentities.insert(id) }
    }

    /// A namespace's first identity: its class, and the policies whose
    /// whole-namespace entries select it take it as a source. Out of numbers:
    /// no class, so no class key admits its pods (closed, never wider).
    mutating func acquireNamespaceClass(_ namespace: String) {
        guard let raw = allocation.namespaceClasses.insert(namespace) else { return }
        let id = IdentityID(raw)
        let labels = labels(ofNamespace: namespace)
        for ref in namespaceClassPolicies {
            if let policy = policies[ref], SourceClasses.selects(policy, namespace, labels: labels) { addSource(ref, id) }
        }
    }

    /// Its last identity is gone: the class and every key naming it.
    mutating func releaseNamespaceClass(_ namespace: String) {
        guard let raw = allocation.namespaceClasses[namespace] else { return }
        let id = IdentityID(raw)
        for ref in policiesWithSource[id] ?? [] { removeSource(ref, id) }
        policiesWithSource[id] = nil
        allocation.namespaceClasses.remove(namespace)
    }

    /// The class pods of a namespace carry as sources (they have an identity).
    func namespaceClass(of namespace: String) -> IdentityID {
        allocation.namespaceClasses[namespace].map(IdentityID.init) ?? .none
    }

    mutating func acquireClass(_ key: TargetClassKey) -> TargetClassID {
        // Target classes have no upper limit below UInt32.max.
        let id = TargetClassID(allocation.targetClasses.insert(key) ?? 0)
        releasedClasses.remove(id)
        if classKeys[id] == nil {
            classKeys[id] = key
            classMembers[id] = 0
            classesByIdentity[key.identity, default: []].insert(id)
            if let identity = identityKeys[key.identity] {
                for ref in policiesByNamespace[identity.namespace] ?? [] where policies[ref]?.target.matches(identity.labels) == true {
                    addTarget(ref, id)
                }
            }
        }
        classMembers[id, default: 0] += 1
        return id
    }

    mutating func releaseClass(_ id: TargetClassID) {
        classMembers[id, default: 1] -= 1
        if classMembers[id] == 0 { releasedClasses.insert(id) }
    }

    /// Drops the classes, identities and CIDR classes that nothing holds any
    /// more, with every entry they had. Classes first: they point at identities.
    mutating func collectGarbage() {
        for id in releasedClasses where classMembers[id] == 0 {
            for ref in policiesTargeting[id] ?? [] { removeTarget(ref, id) }
            policiesTargeting[id] = nil
            guard let key = classKeys.removeValue(forKey: id) else { continue }
            classMembers[id] = nil
            classesByIdentity[key.identity]?.remove(id)
            if classesByIdentity[key.identity]?.isEmpty == true { classesByIdentity[key.identity] = nil }
            allocation.targetClasses.remove(key)
        }
        releasedClasses = []
        for id in releasedIdentities where identityMembers[id]?.isEmpty ?? true {
            for ref in policiesWithSource[id] ?? [] { removeSource(ref, id) }
            policiesWithSource[id] = nil
            guard let key = identityKeys.removeValue(forKey: id) else { continue }
            identityMembers[id] = nil
            identitiesByNamespace[key.namespace]?.remove(id)
            if identitiesByNamespace[key.namespace]?.isEmpty == true {
                identitiesByNamespace[key.namespace] = nil
                releaseNamespaceClass(key.namespace)
            }
            allocation.identities.remove(key)
        }
        releasedIdentities = []
        for prefix in releasedCIDRs where cidrReferences[prefix] == 0 {
            cidrReferences[prefix] = nil
            if let raw = allocation.cidrClasses[prefix] {
                let id = IdentityID(raw)
                for ref in policiesWithSource[id] ?? [] { removeSource(ref, id) }
                policiesWithSource[id] = nil
            }
            allocation.cidrClasses.remove(prefix)
            setCIDREntry(prefix, nil)
            cidrLengths[prefix.prefixLength, default: 1] -= 1
            if cidrLengths[prefix.prefixLength] == 0 { cidrLengths[prefix.prefixLength] = nil }
            allEndpointsDirty = true
        }
        releasedCIDRs = []
    }

    // MARK: - Address and endpoint entries

    /// The owner of an address as `ClusterFacts.addressOwners` decides it,
    /// from the pods that claim this address only.
    mutating func refreshAddress(_ address: IPAddress) {
        let claimants = (claims[address] ?? []).compactMap { pods[$0] }.filter { !$0.isFinished }
        let resolved = ClusterFacts.resolve(address, claimants: claimants, nodeOwned: nodeAddresses.contains(address),
                                            settings: settings)
        let owner = resolved.owner
        addressProblems[address] = resolved.problems.isEmpty ? nil : resolved.problems
        var value: AddressValue?
        switch owner {
        case nil: value = nil
        case let .node(name):
            value = name == settings.nodeName ? AddressValue(kind: .host, identity: .host) : AddressValue(kind: .remoteNode, identity: .remoteNode)
        case let .pod(ref):
            if let facts = podFacts[ref], let identity = facts.identity, let targetClass = facts.targetClass {
                value = AddressValue(kind: .pod, identity: identity, targetClass: targetClass,
                                     podID: allocation.pods[ref] ?? 0, defaultPolicy: facts.defaultPolicy,
                                     namespaceClass: namespaceClass(of: ref.namespace))
            }
        }
        setAddressEntry(address, value)
    }

    /// As `PodEntries.endpoints`, for one local pod.
    mutating func refreshEndpoint(_ ref: PodRef) {
        guard let cgroup = localCgroups[ref] else { return }
        guard let pod = pods[ref], ClusterFacts.node(of: pod, settings: settings) == settings.nodeName,
              let podID = allocation.pods[ref] else {
            setEndpointEntry(cgroup, nil)
            return
        }
        let facts = podFacts[ref] ?? PodFacts()
        guard !pod.hostNetwork, let identity = facts.identity, let targetClass = facts.targetClass,
              let policy = facts.defaultPolicy else {
            setEndpointEntry(cgroup, EndpointValue(identity: .host, targetClass: TargetClassID(0), podID: podID,
                                                   defaultPolicy: .allUnauthenticated))
            return
        }
        var value = EndpointValue(identity: identity, targetClass: targetClass, podID: podID, defaultPolicy: policy,
                                  namespaceClass: namespaceClass(of: ref.namespace))
        value.address4 = pod.addresses.first(where: \.isIPv4)
        value.address6 = pod.addresses.first(where: { !$0.isIPv4 })
        if let v4 = value.address4, let match = longestCIDRMatch(v4) {
            value.cidrClass4 = match.cidrClass
            value.inCluster4 = match.inCluster
        }
        if let v6 = value.address6, let match = longestCIDRMatch(v6) {
            value.cidrClass6 = match.cidrClass
            value.inCluster6 = match.inCluster
        }
        setEndpointEntry(cgroup, value)
    }

    /// The LPM lookup of `podgate_cidrs`, one exact lookup per prefix length in use.
    func longestCIDRMatch(_ address: IPAddress) -> CIDRValue? {
        for length in cidrLengths.keys.sorted(by: >) {
            if let value = state.cidrs[CIDR(address: address, prefixLength: length)] { return value }
        }
        return nil
    }
}
