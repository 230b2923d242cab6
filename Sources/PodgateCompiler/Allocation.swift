import PodgateModel

/// A source identity: pods with the same namespace, labels and service
/// account are indistinguishable to every selector, so they share one,
/// unless a `sources` entry with pod fields and `networks` tells them apart
/// by address: `networks` then lists the entries' network lists this pod
/// lies inside (see NetworkPlacement), so a pod inside and its twin outside
/// get different identities and different answers.
public struct IdentityKey: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var namespace: String
    public var labels: [String: String]
    public var serviceAccount: String
    /// Canonical (sorted, deduplicated) network lists the pod is inside; empty for most pods.
    public var networks: [[NetworkBlock]]

    public init(namespace: String, labels: [String: String], serviceAccount: String, networks: [[NetworkBlock]] = []) {
        self.namespace = namespace
        self.labels = labels
        self.serviceAccount = serviceAccount
        self.networks = networks
    }

    /// The key of a pod that no `networks` entry tells apart (NetworkPlacement gives the full key).
    public init(_ pod: Pod) {
        self.init(namespace: pod.namespace, labels: pod.labels, serviceAccount: pod.serviceAccount)
    }

    var sortedLabels: [String] { labels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" } }
    var networkWords: [String] { networks.map(NetworkPlacement.describe) }

    public var description: String {
        "\(namespace) sa=\(serviceAccount) {\(sortedLabels.joined(separator: ","))}"
            + (networks.isEmpty ? "" : " inside \(networkWords.joined(separator: " and "))")
    }

    public static func < (a: Self, b: Self) -> Bool {
        if a.namespace != b.namespace { return a.namespace < b.namespace }
        if a.serviceAccount != b.serviceAccount { return a.serviceAccount < b.serviceAccount }
        if a.labels != b.labels { return a.sortedLabels.lexicographicallyPrecedes(b.sortedLabels) }
        return a.networkWords.lexicographicallyPrecedes(b.networkWords)
    }
}

/// A policy target class: pods that every policy treats alike: same
/// identity (so the same selectors pick them), same named ports (so named
/// ports resolve alike) and same default inbound policy.
public struct TargetClassKey: Hashable, Comparable, Sendable {
    public var identity: IdentityID
    /// The pod's named container ports, sorted; unnamed ones play no part in policy.
    public var namedPorts: [ContainerPort]
    public var defaultPolicy: DefaultInboundPolicy

    public init(identity: IdentityID, ports: [ContainerPort], defaultPolicy: DefaultInboundPolicy) {
        self.identity = identity
        self.namedPorts = Array(Set(ports.filter { $0.name != nil })).sorted(by: Self.portOrder)
        self.defaultPolicy = defaultPolicy
    }

    static func portOrder(_ a: ContainerPort, _ b: ContainerPort) -> Bool {
        (a.name ?? "", a.port, a.transport.number) < (b.name ?? "", b.port, b.transport.number)
    }

    public static func < (a: Self, b: Self) -> Bool {
        if a.identity != b.identity { return a.identity < b.identity }
        if a.defaultPolicy != b.defaultPolicy { return a.defaultPolicy.rawValue < b.defaultPolicy.rawValue }
        let x = a.namedPorts.map { "\($0.name ?? "")/\($0.port)/\($0.transport.rawValue)" }
        let y = b.namedPorts.map { "\($0.name ?? "")/\($0.port)/\($0.transport.rawValue)" }
        return x.lexicographicallyPrecedes(y)
    }
}

/// Every number the compiler has handed out. Pass the previous one to the
/// next `compile` so numbers of things that still exist never change.
public struct Allocation: Hashable, Sendable {
    public internal(set) var identities = IDTable<IdentityKey>(first: IdentityID.firstPod, limit: IdentityID.firstNamespace)
    /// A class per namespace that holds a numbered identity: the source of
    /// policy keys for "every pod of this namespace".
    public internal(set) var namespaceClasses = IDTable<String>(first: IdentityID.firstNamespace, limit: IdentityID.firstCIDR)
    /// 0 is "not a policy target" (host-network pods).
    public internal(set) var targetClasses = IDTable<TargetClassKey>(first: 1)
    public internal(set) var cidrClasses = IDTable<CIDR>(first: IdentityID.firstCIDR)
    /// 0 is never a pod: the kernel reads it as "no pod".
    public internal(set) var pods = IDTable<PodRef>(first: 1)
    /// 0 is "no policy" in events.
    public internal(set) var policies = IDTable<PolicyRef>(first: 1)

    public init() {}
}
