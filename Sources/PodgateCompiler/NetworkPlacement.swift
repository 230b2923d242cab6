import PodgateModel

/// Which pods a `sources` entry holding both pod fields and `networks` can
/// admit: a pod matches only if its own address is inside (policy-semantics.md),
/// so two pods with the same labels, one inside and one outside, must get
/// different answers. The policy map keys sources by identity, so such pods
/// get different identities: a pod's IdentityKey carries the network lists
/// of those entries that its pod fields match and that hold every one of its
/// addresses. A pod with no address, or with one address outside (a dual-stack
/// pod half inside), is inside none: it fails closed.
public struct NetworkPlacement: Sendable {
    private struct Entry: Sendable {
        var source: PolicySource
        var policyNamespace: String
        var networks: [NetworkBlock]
    }

    private let entries: [Entry]
    private let snapshot: ClusterSnapshot

    public init(_ snapshot: ClusterSnapshot) {
        self.snapshot = snapshot
        var entries: [Entry] = []
        for policy in snapshot.policies.values {
            for source in policy.sources where source.hasPodFields {
                guard let networks = source.networks else { continue }
                entries.append(Entry(source: source, policyNamespace: policy.namespace,
                                     networks: Self.canonical(networks)))
            }
        }
        self.entries = entries
    }

    /// The pod's full identity key.
    public func key(of pod: Pod) -> IdentityKey {
        var key = IdentityKey(pod)
        guard !entries.isEmpty, !pod.addresses.isEmpty else { return key }
        var inside: Set<[NetworkBlock]> = []
        var nsLabels: [String: String]?
        for entry in entries where !inside.contains(entry.networks) {
            guard Self.inside(pod.addresses, entry.networks) else { continue }
            let labels = nsLabels ?? ClusterFacts.namespaceLabels(pod.namespace, in: snapshot)
            nsLabels = labels
            guard SourceMatching.podFieldsMatch(entry.source, namespace: pod.namespace, labels: pod.labels,
                                                serviceAccount: pod.serviceAccount, namespaceLabels: labels,
                                                policyNamespace: entry.policyNamespace) else { continue }
            inside.insert(entry.networks)
        }
        key.networks = inside.sorted { Self.describe($0) < Self.describe($1) }
        return key
    }

    /// Every address inside some block of the list (and at least one address).
    public static func inside(_ addresses: [IPAddress], _ networks: [NetworkBlock]) -> Bool {
        !addresses.isEmpty && addresses.allSatisfy { address in networks.contains { $0.contains(address) } }
    }

    /// One order for the same list written differently.
    static func canonical(_ networks: [NetworkBlock]) -> [NetworkBlock] {
        let blocks = networks.map { NetworkBlock(cidr: $0.cidr, except: Array(Set($0.except)).sorted()) }
        var seen: Set<NetworkBlock> = []
        return blocks.filter { seen.insert($0).inserted }.sorted { describe($0) < describe($1) }
    }

    static func describe(_ block: NetworkBlock) -> String {
        block.except.isEmpty ? "\(block.cidr)" : "\(block.cidr) except \(block.except.map(\.description).joined(separator: ","))"
    }

    static func describe(_ networks: [NetworkBlock]) -> String {
        "[" + networks.map(describe).joined(separator: " ") + "]"
    }
}

extension PolicySource {
    var hasPodFields: Bool { podSelector != nil || namespaceSelector != nil || serviceAccounts != nil }
}

/// The pod-field half of a `sources` entry, defined once for the compiler,
/// the placement and the reference evaluator.
enum SourceMatching {
    static func podFieldsMatch(_ entry: PolicySource, namespace: String, labels: [String: String], serviceAccount: String,
                               namespaceLabels: [String: String], policyNamespace: String) -> Bool {
        if let selector = entry.namespaceSelector {
            guard selector.matches(namespaceLabels) else { return false }
        } else if entry.podSelector != nil, namespace != policyNamespace {
            return false
        }
        if let selector = entry.podSelector, !selector.matches(labels) { return false }
        if let accounts = entry.serviceAccounts,
           !accounts.contains(ServiceAccountRef(name: serviceAccount, namespace: namespace)) { return false }
        return true
    }
}
