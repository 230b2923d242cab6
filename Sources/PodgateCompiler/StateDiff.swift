import PodgateModel

/// The map writes that take the kernel from one state to another, ordered so
/// that nothing allowed in both states is refused in between:
///
/// 1. config;
/// 2. policy updates: allow entries before "covered" entries (a port must not
///    become authorized-only before its allow entries exist);
/// 3. CIDR updates, after the policy entries of new classes exist (a new,
///    longer prefix would otherwise move addresses to a class with no entries);
/// 4. address updates, then endpoint updates (they point at classes and
///    identities whose entries are already there);
/// 5. endpoint deletes, address deletes;
/// 6. CIDR deletes, before policy deletes (addresses fall back to the
///    shorter prefix while its entries still exist);
/// 7. policy deletes: "covered" entries before allow entries.
///
/// Only changed entries; each group sorted, so the output is deterministic.
public enum StateDiff {
    public static func operations(from old: DesiredState?, to new: DesiredState) -> [MapOperation] {
        var ops: [MapOperation] = []
        if old?.config != new.config { ops.append(.setConfig(new.config)) }

        let policyUpdates = changed(old?.policy ?? [:], new.policy).sorted { ($0.key.source == .none ? 1 : 0, $0.key) < ($1.key.source == .none ? 1 : 0, $1.key) }
        ops += policyUpdates.map { .updatePolicy($0.key, $0.value) }
        ops += changed(old?.cidrs ?? [:], new.cidrs).sorted { $0.key < $1.key }.map { .updateCIDR($0.key, $0.value) }
        ops += changed(old?.addresses ?? [:], new.addresses).sorted { $0.key < $1.key }.map { .updateAddress($0.key, $0.value) }
        ops += changed(old?.endpoints ?? [:], new.endpoints).sorted { $0.key < $1.key }.map { .updateEndpoint($0.key, $0.value) }

        ops += removed(old?.endpoints ?? [:], new.endpoints).map { .deleteEndpoint($0) }
        ops += removed(old?.addresses ?? [:], new.addresses).map { .deleteAddress($0) }
        ops += removed(old?.cidrs ?? [:], new.cidrs).map { .deleteCIDR($0) }
        let policyDeletes = removed(old?.policy ?? [:], new.policy).sorted { ($0.source == .none ? 0 : 1, $0) < ($1.source == .none ? 0 : 1, $1) }
        ops += policyDeletes.map { .deletePolicy($0) }
        return ops
    }

    private static func changed<Key, Value: Equatable>(_ old: [Key: Value], _ new: [Key: Value]) -> [(key: Key, value: Value)] {
        new.filter { old[$0.key] != $0.value }.map { (key: $0.key, value: $0.value) }
    }

    private static func removed<Key: Comparable, Value>(_ old: [Key: Value], _ new: [Key: Value]) -> [Key] {
        old.keys.filter { new[$0] == nil }.sorted()
    }
}
