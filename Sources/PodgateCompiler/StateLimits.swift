import PodgateModel

/// How many entries each map can hold, and the check that a state fits
/// before anything is written. Pure: the agent runs it on every reconcile.
///
/// Why a check up front: a map that fills up halfway through a diff would
/// leave a state the policies never described. The diff writes every add
/// before any delete (make-before-break), so a transition needs room for the
/// union of the old and the new entries at its peak, not just for the new
/// state. A state that does not fit is refused whole; the kernel keeps the
/// previous, complete one.
///
/// Defaults: podgate_abi.h's capacities (`MapCapacityDefaults`): 110 pods per
/// node (the kubelet's default maximum) and 150k pods per cluster
/// (Kubernetes' published limit), dual-stack, with headroom.
public struct StateLimits: Hashable, Sendable {
    /// Local pod and container cgroups (110 pods x up to ~30 cgroups each).
    public var endpoints = MapCapacityDefaults.endpoints
    /// Every pod address of the cluster (150k pods x 2 families) and node addresses (5k nodes x 2).
    public var addresses = MapCapacityDefaults.addresses
    /// Prefixes named by policies and --cluster-networks.
    public var cidrs = MapCapacityDefaults.cidrs
    /// Policy map entries.
    public var policy = MapCapacityDefaults.policy
    /// Remembered UDP peers (an LRU map: it evicts, never refuses).
    public var flows = MapCapacityDefaults.flows

    public init() {}

    public struct Exceeded: Error, Hashable, Sendable, CustomStringConvertible {
        public var map: String
        public var needed: Int
        public var capacity: Int
        public var duringTransition: Bool   // the new state fits, the old plus the new does not
        public var flag: String

        public var description: String {
            duringTransition
                ? "the \(map) map would need \(needed) entries while switching to the new state (adds before deletes), its capacity is \(capacity): not applied, the previous state stays enforced; raise \(flag)"
                : "the \(map) map would need \(needed) entries, its capacity is \(capacity): not applied, the previous state stays enforced; raise \(flag)"
        }
    }

    public struct ExceededError: Error, CustomStringConvertible {
        public var exceeded: [Exceeded]
        public init(exceeded: [Exceeded]) { self.exceeded = exceeded }
        public var description: String { "state does not fit the maps: " + exceeded.map(\.description).joined(separator: "; ") }
    }

    /// Entries per map: at the end of a transition, and at its peak.
    public struct Counts: Hashable, Sendable {
        public var endpoints = 0, addresses = 0, cidrs = 0, policy = 0
        public init() {}
    }

    public func violations(from old: DesiredState?, to new: DesiredState) -> [Exceeded] {
        func removed<Key: Hashable, Value>(_ old: [Key: Value]?, _ new: [Key: Value]) -> Int {
            old?.keys.filter { new[$0] == nil }.count ?? 0
        }
        var final = Counts(), peak = Counts()
        final.endpoints = new.endpoints.count
        final.addresses = new.addresses.count
        final.cidrs = new.cidrs.count
        final.policy = new.policy.count
        peak.endpoints = final.endpoints + removed(old?.endpoints, new.endpoints)
        peak.addresses = final.addresses + removed(old?.addresses, new.addresses)
        peak.cidrs = final.cidrs + removed(old?.cidrs, new.cidrs)
        peak.policy = final.policy + removed(old?.policy, new.policy)
        return violations(final: final, peak: peak)
    }

    /// The same check from counts alone (the incremental compiler knows them without a full diff).
    public func violations(final: Counts, peak: Counts) -> [Exceeded] {
        var result: [Exceeded] = []
        func check(_ name: String, _ flag: String, _ capacity: Int, _ final: Int, _ peak: Int) {
            if final > capacity {
                result.append(Exceeded(map: name, needed: final, capacity: capacity, duringTransition: false, flag: flag))
            } else if peak > capacity {
                result.append(Exceeded(map: name, needed: peak, capacity: capacity, duringTransition: true, flag: flag))
            }
        }
        check("endpoints", "--max-endpoints", endpoints, final.endpoints, peak.endpoints)
        check("addresses", "--max-addresses", addresses, final.addresses, peak.addresses)
        check("cidrs", "--max-cidrs", cidrs, final.cidrs, peak.cidrs)
        check("policy", "--max-policy-entries", policy, final.policy, peak.policy)
        return result
    }

    public func check(from old: DesiredState?, to new: DesiredState) throws {
        let exceeded = violations(from: old, to: new)
        if !exceeded.isEmpty { throw ExceededError(exceeded: exceeded) }
    }
}
