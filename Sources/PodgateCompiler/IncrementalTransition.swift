import PodgateModel

/// The map writes for the changes applied so far, through the same bridge as
/// the full path (`TransitionBridge`), computed from the touched entries and
/// the indexes instead of from two whole states.
extension IncrementalCompiler {
    public struct Transition: Sendable {
        /// Ordered: the writes to the bridge (adds first), then its removal.
        public var operations: [MapOperation]
        /// Entries per map once written, and at the peak of the transition.
        public var final: StateLimits.Counts
        public var peak: StateLimits.Counts
    }

    /// The writes that take the kernel from the state before the pending
    /// changes to `state`. Nothing is forgotten: call `discardOperations()`
    /// once they are written (a refused or failed write keeps them pending).
    public func pendingTransition() -> Transition {
        let (before, after) = touchedStates()
        var bridged = after
        if let plan = TransitionBridge.plan(from: before, to: after, identityIsLive: isLive, classIsLive: isLive) {
            bridged.policy.merge(TransitionBridge.copies(of: entries(naming: plan), plan, existing: state.policy)) { current, _ in current }
        }
        var operations = StateDiff.operations(from: before, to: bridged)
        if bridged != after { operations += StateDiff.operations(from: bridged, to: after) }

        var final = StateLimits.Counts()
        final.endpoints = state.endpoints.count
        final.addresses = state.addresses.count
        final.cidrs = state.cidrs.count
        final.policy = state.policy.count + (bridged.policy.count - after.policy.count)
        func removed<Key: Hashable, Value>(_ old: [Key: Value], _ new: [Key: Value]) -> Int { old.keys.filter { new[$0] == nil }.count }
        var peak = final
        peak.endpoints += removed(before.endpoints, bridged.endpoints)
        peak.addresses += removed(before.addresses, bridged.addresses)
        peak.cidrs += removed(before.cidrs, bridged.cidrs)
        peak.policy += removed(before.policy, bridged.policy)
        return Transition(operations: operations, final: final, peak: peak)
    }

    /// The new entries whose class or source something moves into.
    private func entries(naming plan: TransitionBridge.Plan) -> [PolicyKey: PolicyValue] {
        var keys: Set<PolicyKey> = []
        for source in plan.identitiesInto.keys {
            for ref in policiesWithSource[source] ?? [] {
                for (targetClass, prefixes) in targetsOf[ref] ?? [:] {
                    for prefix in prefixes { keys.insert(Self.key(targetClass, source, prefix)) }
                }
            }
        }
        for targetClass in plan.classesInto.keys {
            for ref in policiesTargeting[targetClass] ?? [] {
                let sources = [IdentityID.none] + (sourcesOf[ref] ?? [])
                for prefix in targetsOf[ref]?[targetClass] ?? [] {
                    for source in sources { keys.insert(Self.key(targetClass, source, prefix)) }
                }
            }
        }
        var result: [PolicyKey: PolicyValue] = [:]
        for key in keys { result[key] = state.policy[key] }
        return result
    }

    /// As the full bridge defines it: some endpoint or address entry names the identity.
    private func isLive(_ identity: IdentityID) -> Bool {
        guard identity.isPod else {
            // Reserved numbers (a host-network pod's endpoint, node addresses): rare; look everywhere.
            return state.endpoints.values.contains { $0.identity == identity } || state.addresses.values.contains { $0.identity == identity }
        }
        for ref in identityMembers[identity] ?? [] where holdsEntry(ref, { $0.identity == identity }, { $0.identity == identity }) {
            return true
        }
        return false
    }

    /// As the full bridge defines it: some pod's endpoint or address entry points at the class.
    private func isLive(_ targetClass: TargetClassID) -> Bool {
        guard let key = classKeys[targetClass] else {
            // Class 0: host-network pods' endpoints.
            return targetClass.rawValue == 0 && state.endpoints.values.contains { $0.podID != 0 && $0.targetClass == targetClass }
        }
        for ref in identityMembers[key.identity] ?? [] where podFacts[ref]?.targetClass == targetClass {
            if holdsEntry(ref, { $0.targetClass == targetClass }, { $0.targetClass == targetClass }) { return true }
        }
        return false
    }

    private func holdsEntry(_ ref: PodRef, _ endpoint: (EndpointValue) -> Bool, _ address: (AddressValue) -> Bool) -> Bool {
        let podID = allocation.pods[ref] ?? 0
        if let cgroup = localCgroups[ref], let value = state.endpoints[cgroup], value.podID == podID, endpoint(value) { return true }
        for candidate in pods[ref]?.addresses ?? [] {
            if let value = state.addresses[candidate], value.kind == .pod, value.podID == podID, address(value) { return true }
        }
        return false
    }
}
