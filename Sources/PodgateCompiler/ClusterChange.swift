import PodgateModel

/// One object added, updated or deleted (nil): what the incremental compiler
/// takes in. The sources may keep handing whole snapshots: `between` turns two
/// consecutive ones into the changes that lead from the first to the second.
public enum ClusterChange: Hashable, Sendable {
    case namespace(String, Namespace?)
    case pod(PodRef, Pod?)
    case policy(PolicyRef, Policy?)
    /// A policy that failed validation (reported only) appears or goes away.
    case invalidPolicy(PolicyRef, Diagnostic?)
    /// A local pod's cgroup, from the cgroup adapter.
    case localCgroup(PodRef, CgroupID?)

    /// The changes from `old` to `new`: deletes and adds of every kind, in no
    /// particular order (the compiler's result does not depend on it).
    public static func between(_ old: ClusterSnapshot, _ new: ClusterSnapshot,
                               oldCgroups: [PodRef: CgroupID] = [:], newCgroups: [PodRef: CgroupID] = [:]) -> [ClusterChange] {
        var changes: [ClusterChange] = []
        diff(old.namespaces, new.namespaces, into: &changes, ClusterChange.namespace)
        diff(old.pods, new.pods, into: &changes, ClusterChange.pod)
        diff(old.policies, new.policies, into: &changes, ClusterChange.policy)
        diff(old.invalidPolicies, new.invalidPolicies, into: &changes, ClusterChange.invalidPolicy)
        diff(oldCgroups, newCgroups, into: &changes, ClusterChange.localCgroup)
        return changes
    }

    private static func diff<Key: Hashable, Value: Equatable>(_ old: [Key: Value], _ new: [Key: Value], into changes: inout [ClusterChange],
                                                             _ make: (Key, Value?) -> ClusterChange) {
        for (key, value) in new where old[key] != value { changes.append(make(key, value)) }
        for key in old.keys where new[key] == nil { changes.append(make(key, nil)) }
    }
}
