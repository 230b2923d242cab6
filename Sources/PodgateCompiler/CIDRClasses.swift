import PodgateModel

/// The CIDR classes: one per prefix that a valid policy's `networks` (cidr
/// or except) or `--cluster-networks` names. An address's longest matching
/// prefix decides its membership in every one of them, because any two
/// prefixes are either nested or disjoint.
enum CIDRClasses {
    static func prefixes(_ snapshot: ClusterSnapshot, settings: AgentSettings) -> Set<CIDR> {
        var prefixes = Set(settings.clusterNetworks)
        for policy in snapshot.policies.values {
            for source in policy.sources {
                for block in source.networks ?? [] {
                    prefixes.insert(block.cidr)
                    prefixes.formUnion(block.except)
                }
            }
        }
        return prefixes
    }

    static func entries(_ allocation: Allocation, settings: AgentSettings) -> [CIDR: CIDRValue] {
        var entries: [CIDR: CIDRValue] = [:]
        for (prefix, id) in allocation.cidrClasses.ids {
            let inCluster = settings.clusterNetworks.contains { $0.contains(prefix) }
            entries[prefix] = CIDRValue(cidrClass: IdentityID(id), inCluster: inCluster)
        }
        return entries
    }
}

extension DesiredState {
    /// The LPM trie lookup of `podgate_cidrs`: the longest prefix holding `address`.
    public func longestCIDRMatch(_ address: IPAddress) -> (prefix: CIDR, value: CIDRValue)? {
        var best: (prefix: CIDR, value: CIDRValue)?
        for (prefix, value) in cidrs where prefix.contains(address) {
            if best.map({ prefix.prefixLength > $0.prefix.prefixLength }) ?? true { best = (prefix, value) }
        }
        return best
    }
}
