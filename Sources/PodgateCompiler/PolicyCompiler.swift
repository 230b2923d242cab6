import PodgateModel

/// Cluster snapshot in, desired map state out. Pure: no I/O, no clock.
public enum PolicyCompiler {
    /// - Parameters:
    ///   - localCgroups: the pod cgroups of this node (from the cgroup adapter).
    ///   - previous: the last compile's allocation, so numbers stay stable.
    public static func compile(_ snapshot: ClusterSnapshot, settings: AgentSettings,
                               localCgroups: [PodRef: CgroupID] = [:], previous: Allocation = Allocation()) -> Compilation {
        var allocation = previous
        // In any order: the Compilation puts them in its canonical one.
        var diagnostics = Array(snapshot.invalidPolicies.values)
        let pods = snapshot.pods.values.sorted { $0.ref < $1.ref }
        let policyPods = pods.filter { !$0.hostNetwork }

        // Default policies, reported once per object.
        var defaults: [PodRef: DefaultInboundPolicy] = [:]
        var defaultProblems: Set<Diagnostic> = []
        for pod in policyPods {
            let resolved = ClusterFacts.defaultPolicy(of: pod, in: snapshot, settings: settings)
            defaults[pod.ref] = resolved.policy
            defaultProblems.formUnion(resolved.problems)
        }
        // A namespace's unknown value is reported even when no pod uses it.
        for namespace in snapshot.namespaces.values {
            if let raw = namespace.defaultInboundPolicy, DefaultInboundPolicy(rawValue: raw) == nil {
                defaultProblems.insert(ClusterFacts.unknownValue(raw, object: "Namespace \(namespace.name)"))
            }
        }
        diagnostics += defaultProblems

        // Numbers: identities, then target classes (keyed by identity), CIDR classes, pods, policies.
        let placement = NetworkPlacement(snapshot)
        var keyOf: [PodRef: IdentityKey] = [:]
        for pod in policyPods { keyOf[pod.ref] = placement.key(of: pod) }
        report(allocation.identities.update(live: Set(keyOf.values)), "pod identities", &diagnostics)
        var classOf: [PodRef: TargetClassID] = [:]
        var identityOf: [PodRef: IdentityID] = [:]
        var classKeys: [PodRef: TargetClassKey] = [:]
        for pod in policyPods {
            guard let key = keyOf[pod.ref], let id = allocation.identities[key], let policy = defaults[pod.ref] else { continue }
            identityOf[pod.ref] = IdentityID(id)
            classKeys[pod.ref] = TargetClassKey(identity: IdentityID(id), ports: pod.ports, defaultPolicy: policy)
        }
        allocation.targetClasses.update(live: Set(classKeys.values))
        // A class per namespace with an identity: the source of "every pod of it".
        allocation.namespaceClasses.update(live: Set(keyOf.values.filter { allocation.identities[$0] != nil }.map(\.namespace)))
        for (ref, key) in classKeys { classOf[ref] = allocation.targetClasses[key].map(TargetClassID.init) }
        allocation.cidrClasses.update(live: CIDRClasses.prefixes(snapshot, settings: settings))
        allocation.pods.update(live: Set(pods.map(\.ref)))
        allocation.policies.update(live: Set(snapshot.policies.keys))

        var compilation = Compilation(state: DesiredState(config: DatapathConfig(allowFromHost: settings.allowFromHost,
                                                                                 denyUnknownPods: settings.denyUnknownPods)),
                                      allocation: allocation, diagnostics: [])
        compilation.state.cidrs = CIDRClasses.entries(allocation, settings: settings)

        // Policy entries.
        let resolution = SourceResolution(snapshot: snapshot, identities: compilation.identities,
                                          cidrClasses: allocation.cidrClasses.ids.mapValues(IdentityID.init),
                                          namespaceClasses: allocation.namespaceClasses.ids.mapValues(IdentityID.init))
        let policies = snapshot.policies.values.compactMap { policy -> (UInt32, Policy, Set<IdentityID>)? in
            guard let index = allocation.policies[policy.ref] else { return nil }
            return (index, policy, resolution.sources(of: policy))
        }
        compilation.state.policy = PolicyEntries(classes: compilation.targetClasses, identities: compilation.identities)
            .build(policies: policies)

        // Addresses, then the endpoints of this node.
        let owners = ClusterFacts.addressOwners(snapshot, settings: settings)
        diagnostics += owners.problems
        let entries = PodEntries(snapshot: snapshot, settings: settings, allocation: allocation,
                                 identityOf: identityOf, classOf: classOf, defaults: defaults)
        compilation.state.addresses = entries.addresses(owners.owners)
        compilation.state.endpoints = entries.endpoints(localCgroups, cidrs: compilation.state)

        return Compilation(state: compilation.state, allocation: allocation, diagnostics: diagnostics)
    }

    private static func report<Key>(_ exhausted: [Key], _ what: String, _ diagnostics: inout [Diagnostic]) {
        guard !exhausted.isEmpty else { return }
        diagnostics.append(Diagnostic(object: "compiler", field: "",
                                      message: "out of numbers for \(what): \(exhausted.count) left unnumbered"))
    }
}
