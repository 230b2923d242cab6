import PodgateModel

/// A source identity: pods with the same namespace, labels and service
/// account are indistinguishable to every selector, so they share one.
public struct IdentityKey: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var namespace: String
    public var labels: [String: String]
    public var serviceAccount: String

    public init(namespace: String, labels: [String: String], serviceAccount: String) {
        self.namespace = namespace
        self.labels = labels
        self.serviceAccount = serviceAccount
    }

    public init(_ pod: Pod) {
        self.init(namespace: pod.namespace, labels: pod.labels, serviceAccount: pod.serviceAccount)
    }

    var sortedLabels: [String] { labels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" } }

    public var description: String {
        "\(namespace) sa=\(serviceAccount) {\(sortedLabels.joined(separator: ","))}"
    }

    public static func < (a: Self, b: Self) -> Bool {
        if a.namespace != b.namespace { return a.namespace < b.namespace }
        if a.serviceAccount != b.serviceAccount { return a.serviceAccount < b.serviceAccount }
        return a.sortedLabels.lexicographicallyPrecedes(b.sortedLabels)
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
    public internal(set) var identities = IDTable<IdentityKey>(first: IdentityID.firstPod, limit: IdentityID.firstCIDR)
    /// 0 is "not a policy target" (host-network pods).
    public internal(set) var targetClasses = IDTable<TargetClassKey>(first: 1)
    public internal(set) var cidrClasses = IDTable<CIDR>(first: IdentityID.firstCIDR)
    /// 0 is never a pod: the kernel reads it as "no pod".
    public internal(set) var pods = IDTable<PodRef>(first: 1)
    /// 0 is "no policy" in events.
    public internal(set) var policies = IDTable<PolicyRef>(first: 1)

    public init() {}
}
