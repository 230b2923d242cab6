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
/// Defaults: 110 pods per node (the kubelet's default maximum) and 150k pods
/// per cluster (Kubernetes' published limit), dual-stack, with headroom.
public struct StateLimits: Hashable, Sendable {
    /// Local pod and container cgroups (110 pods x up to ~30 cgroups each).
    public var endpoints = 4096
    /// Every pod address of the cluster (150k pods x 2 families) and node addresses (5k nodes x 2).
    public var addresses = 327_680
    /// Prefixes named by policies and --cluster-networks.
    public var cidrs = 16_384
    /// Policy map entries.
    public var policy = 524_288
    /// Remembered UDP peers (an LRU map: it evicts, never refuses).
    public var flows = 65_536

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
        public var description: String { "state does not fit the maps: " + exceeded.map(\.description).joined(separator: "; ") }
    }

    public func violations(from old: DesiredState?, to new: DesiredState) -> [Exceeded] {
        var result: [Exceeded] = []
        func check<Key: Hashable, Value>(_ name: String, _ flag: String, _ capacity: Int, _ old: [Key: Value]?, _ new: [Key: Value]) {
            let final = new.count
            let peak = final + (old?.keys.filter { new[$0] == nil }.count ?? 0)
            if final > capacity {
                result.append(Exceeded(map: name, needed: final, capacity: capacity, duringTransition: false, flag: flag))
            } else if peak > capacity {
                result.append(Exceeded(map: name, needed: peak, capacity: capacity, duringTransition: true, flag: flag))
            }
        }
        check("endpoints", "--max-endpoints", endpoints, old?.endpoints, new.endpoints)
        check("addresses", "--max-addresses", addresses, old?.addresses, new.addresses)
        check("cidrs", "--max-cidrs", cidrs, old?.cidrs, new.cidrs)
        check("policy", "--max-policy-entries", policy, old?.policy, new.policy)
        return result
    }

    public func check(from old: DesiredState?, to new: DesiredState) throws {
        let exceeded = violations(from: old, to: new)
        if !exceeded.isEmpty { throw ExceededError(exceeded: exceeded) }
    }
}
