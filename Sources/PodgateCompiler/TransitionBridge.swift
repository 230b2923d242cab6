import PodgateModel

/// Make-before-break across pointer flips. A connection is judged with the
/// source's identity (endpoint or address entry) and the target's class
/// (address or endpoint entry), read from different map entries. When one
/// change moves a pod to a new identity AND a target to a new class, the
/// kernel passes through states that pair an old pointer with a new one:
/// (new class, old identity) and (old class, new identity) have entries in
/// neither the old state nor the new one, so a connection allowed before and
/// after would be refused in between.
///
/// The bridge is the new state plus copies of its policy entries under the
/// old identities and classes that are being left. It is written first;
/// then the plain diff to the new state removes the copies. A copy is made
/// only for an identity (class) that every one of its pods leaves for the
/// same new one and that does not exist in the new state, so no pod that
/// stays keeps a permission it should not have.
public enum TransitionBridge {
    /// `new` plus the bridging entries, or `new` itself when nothing moves.
    public static func bridge(from old: DesiredState?, to new: DesiredState) -> DesiredState {
        guard let old else { return new }
        let liveIdentities = liveIdentities(new)
        let liveClasses = Set(pods(new, \.targetClass).values)
        // Namespace classes move only when numbers are handed out afresh (a
        // restarted agent): the same make-before-break as identities.
        let liveNamespaces = Set(new.endpoints.values.map(\.namespaceClass)).union(new.addresses.values.map(\.namespaceClass))
        let namespaceMoves = moves(old: namespaceClasses(old), new: namespaceClasses(new), isLive: { liveNamespaces.contains($0) })
        var movePlan = Self.plan(from: old, to: new, identityIsLive: { liveIdentities.contains($0) },
                                 classIsLive: { liveClasses.contains($0) })
        if !namespaceMoves.isEmpty {
            movePlan = movePlan ?? Plan(identitiesInto: [:], classesInto: [:])
            movePlan!.namespacesInto = invert(namespaceMoves)
        }
        guard let plan = movePlan else { return new }
        var bridged = new
        bridged.policy.merge(copies(of: new.policy, plan, existing: new.policy)) { current, _ in current }
        return bridged
    }

    /// Which old identities and classes flow into which new ones.
    struct Plan {
        /// new identity -> the old identities that move into it (and die).
        var identitiesInto: [IdentityID: [IdentityID]]
        var classesInto: [TargetClassID: [TargetClassID]]
        /// new namespace class -> the old ones that move into it (full path only).
        var namespacesInto: [IdentityID: [IdentityID]] = [:]
    }

    /// nil when nothing moves. `old` and `new` may hold only the entries that
    /// changed (the incremental compiler): an identity or class that moves is
    /// dead in `new`, so every entry naming it changed, and the liveness
    /// answers come from the whole new state.
    static func plan(from old: DesiredState, to new: DesiredState, identityIsLive: (IdentityID) -> Bool,
                     classIsLive: (TargetClassID) -> Bool) -> Plan? {
        let identityMoves = moves(old: pods(old, \.identity), new: pods(new, \.identity), isLive: identityIsLive)
        let classMoves = moves(old: pods(old, \.targetClass), new: pods(new, \.targetClass), isLive: classIsLive)
        guard !identityMoves.isEmpty || !classMoves.isEmpty else { return nil }
        return Plan(identitiesInto: invert(identityMoves), classesInto: invert(classMoves))
    }

    /// Copies of `entries` (the new entries naming a class or identity that
    /// something moves into) under the old classes and identities.
    static func copies(of entries: [PolicyKey: PolicyValue], _ plan: Plan, existing: [PolicyKey: PolicyValue]) -> [PolicyKey: PolicyValue] {
        var result: [PolicyKey: PolicyValue] = [:]
        for (key, value) in entries {
            let classes = [key.targetClass] + (plan.classesInto[key.targetClass] ?? [])
            let sources = [key.source] + (plan.identitiesInto[key.source] ?? []) + (plan.namespacesInto[key.source] ?? [])
            for targetClass in classes {
                for source in sources where targetClass != key.targetClass || source != key.source {
                    var copy = key
                    copy.targetClass = targetClass
                    copy.source = source
                    // A copy can come from two entries (a class and an identity both
                    // moving): the lowest index names it, whatever the order of work.
                    guard existing[copy] == nil else { continue }
                    if result[copy].map({ value.policyIndex < $0.policyIndex }) ?? true { result[copy] = value }
                }
            }
        }
        return result
    }

    /// pod id -> what the pod points at, from every entry that names a pod.
    private static func pods<ID: Hashable>(_ state: DesiredState, _ field: KeyPath<PodPointer, ID>) -> [UInt32: ID] {
        var result: [UInt32: ID] = [:]
        for value in state.endpoints.values where value.podID != 0 {
            result[value.podID] = PodPointer(identity: value.identity, targetClass: value.targetClass)[keyPath: field]
        }
        for value in state.addresses.values where value.kind == .pod && value.podID != 0 {
            guard let targetClass = value.targetClass else { continue }
            result[value.podID] = PodPointer(identity: value.identity, targetClass: targetClass)[keyPath: field]
        }
        return result
    }

    /// pod id -> its namespace class, from every entry that names a pod with one.
    private static func namespaceClasses(_ state: DesiredState) -> [UInt32: IdentityID] {
        var result: [UInt32: IdentityID] = [:]
        for value in state.endpoints.values where value.podID != 0 && value.namespaceClass != .none { result[value.podID] = value.namespaceClass }
        for value in state.addresses.values where value.kind == .pod && value.podID != 0 && value.namespaceClass != .none {
            result[value.podID] = value.namespaceClass
        }
        return result
    }

    private static func liveIdentities(_ state: DesiredState) -> Set<IdentityID> {
        Set(state.endpoints.values.map(\.identity)).union(state.addresses.values.map(\.identity))
    }

    /// Old IDs all of whose pods moved to one and the same new ID, and that
    /// no longer exist.
    private static func moves<ID: Hashable>(old: [UInt32: ID], new: [UInt32: ID], isLive: (ID) -> Bool) -> [ID: ID] {
        var targets: [ID: Set<ID>] = [:]
        for (pod, before) in old {
            // A pod that left entirely does not say where its ID went; it blocks nothing.
            guard let after = new[pod] else { continue }
            targets[before, default: []].insert(after)
        }
        var result: [ID: ID] = [:]
        for (before, afters) in targets where afters.count == 1 && !isLive(before) {
            if let after = afters.first, after != before { result[before] = after }
        }
        return result
    }

    private static func invert<ID: Hashable>(_ moves: [ID: ID]) -> [ID: [ID]] {
        var result: [ID: [ID]] = [:]
        for (before, after) in moves { result[after, default: []].append(before) }
        return result
    }

    private struct PodPointer {
        var identity: IdentityID
        var targetClass: TargetClassID
    }
}
