import PodgateModel

/// Changes in, map operations out: the compiler kept between changes.
///
/// It holds the cluster it was told about, the numbers handed out, the
/// desired state, and the indexes that let one change touch only what it
/// affects: pods per identity and per namespace, identities per namespace,
/// classes per identity, the target classes and the sources of each policy,
/// and the policies that hold each policy-map entry.
///
/// The contract is `PolicyCompiler.compile`: after any sequence of changes,
/// `state` equals the full compile of the same cluster given this compiler's
/// `allocation` (the property test checks it entry for entry, after every
/// step). Pure: values in, values out.
public struct IncrementalCompiler: Sendable {
    public let settings: AgentSettings
    public internal(set) var state: DesiredState
    public internal(set) var allocation = Allocation()

    // The inputs, as last told.
    public internal(set) var namespaces: [String: Namespace] = [:]
    public internal(set) var pods: [PodRef: Pod] = [:]
    public internal(set) var policies: [PolicyRef: Policy] = [:]
    public internal(set) var invalidPolicies: [PolicyRef: Diagnostic] = [:]
    public internal(set) var localCgroups: [PodRef: CgroupID] = [:]

    // Pods.
    struct PodFacts: Hashable, Sendable {
        var identity: IdentityID?
        var targetClass: TargetClassID?
        var defaultPolicy: DefaultInboundPolicy?
    }
    var podFacts: [PodRef: PodFacts] = [:]
    var podsByNamespace: [String: Set<PodRef>] = [:]
    var podProblems: [PodRef: [Diagnostic]] = [:]
    /// Pods whose identity could not be numbered (the range is exhausted).
    var unnumberedPods: [PodRef: IdentityKey] = [:]

    // Namespaces.
    var namespaceLabels: [String: [String: String]] = [:]
    var namespaceProblems: [String: Diagnostic] = [:]

    // Identities and target classes.
    var identityKeys: [IdentityID: IdentityKey] = [:]
    var identityMembers: [IdentityID: Set<PodRef>] = [:]
    var identitiesByNamespace: [String: Set<IdentityID>] = [:]
    var classKeys: [TargetClassID: TargetClassKey] = [:]
    var classMembers: [TargetClassID: Int] = [:]
    var classesByIdentity: [IdentityID: Set<TargetClassID>] = [:]

    // CIDR classes: references from valid policies; --cluster-networks hold one each for good.
    var cidrReferences: [CIDR: Int] = [:]
    var cidrLengths: [Int: Int] = [:]

    // Policies.
    var policiesByNamespace: [String: Set<PolicyRef>] = [:]
    /// Policies with an entry that can match pods outside their own namespace.
    var widePolicies: Set<PolicyRef> = []
    /// Policies with an entry that has `namespaceSelector` (namespace labels matter).
    var namespaceSelectorPolicies: Set<PolicyRef> = []
    /// The `sources` entries with pod fields and `networks`, per policy: they
    /// split identities by pod address (NetworkPlacement).
    struct NetworkEntry: Hashable, Sendable {
        var source: PolicySource
        var policyNamespace: String
        var networks: [NetworkBlock]   // canonical
    }
    var networkEntries: [PolicyRef: [NetworkEntry]] = [:]
    /// Policies with a whole-namespace entry (SourceClasses): namespace classes are sources.
    var namespaceClassPolicies: Set<PolicyRef> = []
    /// Policies with an entry that has only `networks` (CIDR classes are sources).
    var cidrPolicies: Set<PolicyRef> = []
    var targetsOf: [PolicyRef: [TargetClassID: [PortPrefix]]] = [:]
    var policiesTargeting: [TargetClassID: Set<PolicyRef>] = [:]
    var sourcesOf: [PolicyRef: Set<IdentityID>] = [:]
    var policiesWithSource: [IdentityID: Set<PolicyRef>] = [:]
    /// The policies (by index) that put each policy-map entry there; the lowest names it.
    var holders: [PolicyKey: [UInt32]] = [:]

    // Addresses.
    /// The pods whose `addresses` hold each address (each pod once, finished
    /// ones included: `refreshAddress` skips them), so that a change of one pod
    /// re-decides only its own addresses.
    var claims: [IPAddress: Set<PodRef>] = [:]
    var addressProblems: [IPAddress: [Diagnostic]] = [:]
    let nodeAddresses: Set<IPAddress>

    // One batch of changes.
    var dirtyPods: Set<PodRef> = []
    var dirtyAddresses: Set<IPAddress> = []
    var dirtyEndpoints: Set<PodRef> = []
    var allEndpointsDirty = false
    var dirtyNamespaceLabels: Set<String> = []
    var releasedIdentities: Set<IdentityID> = []
    var releasedClasses: Set<TargetClassID> = []
    var releasedCIDRs: Set<CIDR> = []
    var deletedPods: Set<PodRef> = []
    var deletedPolicies: Set<PolicyRef> = []

    /// The value each touched entry had before the changes not yet turned into operations.
    var touchedPolicy: [PolicyKey: PolicyValue?] = [:]
    var touchedAddresses: [IPAddress: AddressValue?] = [:]
    var touchedEndpoints: [CgroupID: EndpointValue?] = [:]
    var touchedCIDRs: [CIDR: CIDRValue?] = [:]

    /// An empty cluster. `state` holds what needs no object (the cluster
    /// networks' CIDR classes, this node's addresses).
    public init(settings: AgentSettings) {
        self.init(settings: settings, allocation: Allocation())
    }

    /// The compiler holding `snapshot`, numbering live things as `previous`
    /// did (a resync that repairs keeps every number that still stands).
    /// Diff `state` against what the kernel holds to write it.
    public init(snapshot: ClusterSnapshot, settings: AgentSettings, localCgroups: [PodRef: CgroupID] = [:],
                previous: Allocation = Allocation()) {
        self.init(settings: settings, allocation: previous)
        // The entries that split identities by address first, so each pod
        // gets its final identity at once; then namespaces, pods, and policies:
        // each policy then finds every identity and class it selects in one pass.
        for (ref, policy) in snapshot.policies { networkEntries[ref] = Self.networkEntries(of: policy) }
        networkEntries = networkEntries.filter { !$0.value.isEmpty }
        var changes: [ClusterChange] = snapshot.namespaces.map { .namespace($0.key, $0.value) }
        changes += snapshot.pods.map { .pod($0.key, $0.value) }
        changes += localCgroups.map { .localCgroup($0.key, $0.value) }
        changes += snapshot.invalidPolicies.map { .invalidPolicy($0.key, $0.value) }
        changes += snapshot.policies.map { .policy($0.key, $0.value) }
        apply(changes)
        forgetUnused(previous)
        discardOperations()
    }

    init(settings: AgentSettings, allocation: Allocation) {
        self.settings = settings
        self.allocation = allocation
        nodeAddresses = Set(settings.nodeAddresses)
        state = DesiredState(config: DatapathConfig(allowFromHost: settings.allowFromHost, denyUnknownPods: settings.denyUnknownPods))
        for prefix in Set(settings.clusterNetworks) { retainCIDR(prefix) }
        dirtyAddresses.formUnion(nodeAddresses)
        settle()
        discardOperations()
    }

    /// The cluster as the compiler holds it.
    public var snapshot: ClusterSnapshot {
        ClusterSnapshot(namespaces: namespaces, pods: pods, policies: policies, invalidPolicies: invalidPolicies)
    }

    /// Applies the changes; the state and the allocation are then those of
    /// the new cluster. Call `takeOperations()` for the map writes.
    public mutating func apply(_ changes: [ClusterChange]) {
        for change in changes {
            switch change {
            case let .namespace(name, namespace): setNamespace(name, namespace)
            case let .pod(ref, pod): setPod(ref, pod)
            case let .policy(ref, policy):
                // Cheaper, not needed for correctness: a policy then finds the
                // identities of the pods changed before it at once, instead of
                // each new identity looking for its policies.
                // Namespace labels too: re-checking them after the policies
                // would cost (namespaces x identities x namespace selectors).
                if !dirtyPods.isEmpty { refreshPods() }
                if !dirtyNamespaceLabels.isEmpty { refreshNamespaceLabels() }
                setPolicy(ref, policy)
            case let .invalidPolicy(ref, diagnostic): invalidPolicies[ref] = diagnostic
            case let .localCgroup(ref, cgroup): setCgroup(ref, cgroup)
            }
        }
        settle()
    }

    public mutating func apply(_ change: ClusterChange) { apply([change]) }

    /// The map writes since the last call, as the full path orders them
    /// (through `TransitionBridge`, adds before deletes), and forgets them.
    public mutating func takeOperations() -> [MapOperation] {
        let operations = pendingTransition().operations
        discardOperations()
        return operations
    }

    /// The touched entries only: before the changes, and now.
    public func touchedStates() -> (before: DesiredState, after: DesiredState) {
        var before = DesiredState(config: state.config)
        var after = DesiredState(config: state.config)
        Self.split(touchedPolicy, state.policy, &before.policy, &after.policy)
        Self.split(touchedAddresses, state.addresses, &before.addresses, &after.addresses)
        Self.split(touchedEndpoints, state.endpoints, &before.endpoints, &after.endpoints)
        Self.split(touchedCIDRs, state.cidrs, &before.cidrs, &after.cidrs)
        return (before, after)
    }

    /// `state` without the pending changes: what the kernel holds when every
    /// earlier batch was written and this one not yet.
    public var committedState: DesiredState {
        let (before, _) = touchedStates()
        var result = state
        for key in touchedPolicy.keys { result.policy[key] = before.policy[key] }
        for key in touchedAddresses.keys { result.addresses[key] = before.addresses[key] }
        for key in touchedEndpoints.keys { result.endpoints[key] = before.endpoints[key] }
        for key in touchedCIDRs.keys { result.cidrs[key] = before.cidrs[key] }
        return result
    }

    public mutating func discardOperations() {
        touchedPolicy = [:]
        touchedAddresses = [:]
        touchedEndpoints = [:]
        touchedCIDRs = [:]
    }

    /// The same problems as the full compile reports, in `Compilation.canonicalOrder`.
    public var diagnostics: [Diagnostic] {
        var result = Array(invalidPolicies.values)
        var defaults = Set(namespaceProblems.values)
        for problems in podProblems.values { defaults.formUnion(problems) }
        result += defaults
        let unnumbered = Set(unnumberedPods.values).count
        if unnumbered > 0 {
            result.append(Diagnostic(object: "compiler", field: "", message: "out of numbers for pod identities: \(unnumbered) left unnumbered"))
        }
        for problems in addressProblems.values { result += problems }
        return Compilation.canonicalOrder(result)
    }

    public var compilation: Compilation {
        Compilation(state: state, allocation: allocation, diagnostics: diagnostics)
    }

    // MARK: - Entry writes (each remembers the entry's value before the batch)

    mutating func setPolicyEntry(_ key: PolicyKey, _ value: PolicyValue?) { Self.write(key, value, &state.policy, &touchedPolicy) }
    mutating func setAddressEntry(_ key: IPAddress, _ value: AddressValue?) { Self.write(key, value, &state.addresses, &touchedAddresses) }
    mutating func setEndpointEntry(_ key: CgroupID, _ value: EndpointValue?) { Self.write(key, value, &state.endpoints, &touchedEndpoints) }
    mutating func setCIDREntry(_ key: CIDR, _ value: CIDRValue?) { Self.write(key, value, &state.cidrs, &touchedCIDRs) }

    /// The touched entries of one map: as they were before the batch, and as they are now.
    private static func split<Key: Hashable, Value>(_ touched: [Key: Value?], _ current: [Key: Value],
                                                    _ before: inout [Key: Value], _ after: inout [Key: Value]) {
        for (key, old) in touched {
            before[key] = old
            after[key] = current[key]
        }
    }

    /// One entry of one map; `touched` keeps the value it had before the batch.
    private static func write<Key: Hashable, Value: Equatable>(_ key: Key, _ value: Value?, _ map: inout [Key: Value],
                                                               _ touched: inout [Key: Value?]) {
        let old = map[key]
        guard old != value else { return }
        if touched.index(forKey: key) == nil { touched[key] = .some(old) }
        map[key] = value
    }

    // MARK: - Settling a batch

    /// Brings everything derived up to date with the inputs, in dependency
    /// order: pods' identities and classes, then the sources that depend on
    /// namespace labels, then what nothing refers to any
    /// more, then the address and endpoint entries.
    mutating func settle() {
        refreshPods()
        refreshNamespaceLabels()
        collectGarbage()
        for address in dirtyAddresses { refreshAddress(address) }
        dirtyAddresses = []
        if allEndpointsDirty { dirtyEndpoints.formUnion(localCgroups.keys) }
        allEndpointsDirty = false
        for ref in dirtyEndpoints { refreshEndpoint(ref) }
        dirtyEndpoints = []
        // Numbers go last: an object deleted and added back in one batch keeps its own.
        for ref in deletedPods where pods[ref] == nil { allocation.pods.remove(ref) }
        deletedPods = []
        for ref in deletedPolicies where policies[ref] == nil { allocation.policies.remove(ref) }
        deletedPolicies = []
    }

    mutating func refreshNamespaceLabels() {
        for namespace in dirtyNamespaceLabels { reevaluateNamespace(namespace) }
        dirtyNamespaceLabels = []
    }

    mutating func refreshPods() {
        for ref in dirtyPods { refreshPod(ref) }
        dirtyPods = []
    }

    /// Drops the numbers of `previous` that nothing uses (a compiler built
    /// from a snapshot with an old allocation).
    mutating func forgetUnused(_ previous: Allocation) {
        for key in previous.identities.ids.keys where identityKeys[IdentityID(previous.identities.ids[key]!)] != key {
            allocation.identities.remove(key)
        }
        for key in previous.targetClasses.ids.keys where classKeys[TargetClassID(previous.targetClasses.ids[key]!)] != key {
            allocation.targetClasses.remove(key)
        }
        for key in previous.cidrClasses.ids.keys where cidrReferences[key] == nil { allocation.cidrClasses.remove(key) }
        for key in previous.namespaceClasses.ids.keys where identitiesByNamespace[key] == nil { allocation.namespaceClasses.remove(key) }
        for key in previous.pods.ids.keys where pods[key] == nil { allocation.pods.remove(key) }
        for key in previous.policies.ids.keys where policies[key] == nil { allocation.policies.remove(key) }
    }
}
