import PodgateModel

/// The kernel's lookups, done over a `DesiredState` the way the BPF
/// programs do them over the maps (LPM semantics for `cidrs` and `policy`).
/// Tests hold it to `Decision`; tools use it to show what the maps decide.
public enum MapLookup {
    public struct Result: Hashable, Sendable {
        public var allowed: Bool
        public var reason: DecisionReason
        public var audited: Bool
        /// The policy index of the allow entry, or of the covering entry when refused.
        public var policyIndex: UInt32

        public init(allowed: Bool, reason: DecisionReason = .none, audited: Bool = false, policyIndex: UInt32 = 0) {
            self.allowed = allowed
            self.reason = reason
            self.audited = audited
            self.policyIndex = policyIndex
        }
    }

    /// At the server: a new connection from `source` reaches the pod whose
    /// cgroup is `target`, on the node whose maps `state` holds.
    public static func server(_ state: DesiredState, target: CgroupID, source: IPAddress,
                              port: UInt16, transport: TransportProtocol) -> Result {
        guard let endpoint = state.endpoints[target] else {
            return state.config.denyUnknownPods ? Result(allowed: false, reason: .unknownPod) : Result(allowed: true)
        }
        let info = state.addresses[source]
        if source.isLoopback || (info?.kind == .pod && info?.podID == endpoint.podID) { return Result(allowed: true) }
        if info?.kind == .host, state.config.allowFromHost { return Result(allowed: true) }
        let cidr = state.longestCIDRMatch(source)?.value
        return decide(state, targetClass: endpoint.targetClass, defaultPolicy: endpoint.defaultPolicy,
                      identity: info?.identity ?? .world, namespaceClass: info?.namespaceClass ?? .none,
                      cidrClass: cidr?.cidrClass ?? .none,
                      inCluster: cidr?.inCluster ?? false, port: port, transport: transport)
    }

    /// At the client: the pod whose cgroup is `source` connects to
    /// `destination`. nil when the kernel leaves it to the server: the
    /// destination is not a pod address, the client is a host-network pod,
    /// or its cgroup is unregistered and unknown cgroups are trusted (else
    /// it is judged as `unknownPod`, as `lib/resolve.h` does).
    public static func client(_ state: DesiredState, source: CgroupID, destination: IPAddress,
                              port: UInt16, transport: TransportProtocol) -> Result? {
        guard let info = state.addresses[destination], info.kind == .pod,
              let targetClass = info.targetClass, let defaultPolicy = info.defaultPolicy else { return nil }
        guard let endpoint = state.endpoints[source] else {
            guard state.config.denyUnknownPods else { return nil }
            return decide(state, targetClass: targetClass, defaultPolicy: defaultPolicy, identity: .unknownPod,
                          namespaceClass: .none, cidrClass: .none, inCluster: false, port: port, transport: transport)
        }
        guard endpoint.identity.isPod else { return nil }
        if info.podID == endpoint.podID { return Result(allowed: true) }
        let v4 = destination.isIPv4
        return decide(state, targetClass: targetClass, defaultPolicy: defaultPolicy, identity: endpoint.identity,
                      namespaceClass: endpoint.namespaceClass, cidrClass: v4 ? endpoint.cidrClass4 : endpoint.cidrClass6,
                      inCluster: v4 ? endpoint.inCluster4 : endpoint.inCluster6, port: port, transport: transport)
    }

    /// Rules 3 and 4, as `lib/policy.h` takes them (`podgate_rule3_policies`, `podgate_rule4_default`).
    static func decide(_ state: DesiredState, targetClass: TargetClassID, defaultPolicy: DefaultInboundPolicy,
                       identity: IdentityID, namespaceClass: IdentityID, cidrClass: IdentityID, inCluster: Bool,
                       port: UInt16, transport: TransportProtocol) -> Result {
        if let allow = policyLookup(state, targetClass, identity, port, transport) {
            return Result(allowed: true, policyIndex: allow.policyIndex)
        }
        // The classes of a pod identity: its namespace's, then every pod's.
        if identity.isPod {
            if namespaceClass != .none, let allow = policyLookup(state, targetClass, namespaceClass, port, transport) {
                return Result(allowed: true, policyIndex: allow.policyIndex)
            }
            if let allow = policyLookup(state, targetClass, .allPods, port, transport) {
                return Result(allowed: true, policyIndex: allow.policyIndex)
            }
        }
        if cidrClass != .none, let allow = policyLookup(state, targetClass, cidrClass, port, transport) {
            return Result(allowed: true, policyIndex: allow.policyIndex)
        }
        if let covered = policyLookup(state, targetClass, .none, port, transport) {
            return Result(allowed: false, reason: .notAuthorized, policyIndex: covered.policyIndex)
        }
        switch defaultPolicy {
        case .allUnauthenticated: return Result(allowed: true)
        case .clusterUnauthenticated: return inCluster ? Result(allowed: true) : Result(allowed: false, reason: .notCluster)
        case .allAuthenticated: return identity.isPod ? Result(allowed: true) : Result(allowed: false, reason: .notAuthenticated)
        case .clusterAuthenticated:
            if !identity.isPod { return Result(allowed: false, reason: .notAuthenticated) }
            return inCluster ? Result(allowed: true) : Result(allowed: false, reason: .notCluster)
        case .deny: return Result(allowed: false, reason: .defaultDeny)
        case .audit: return Result(allowed: true, reason: .defaultDeny, audited: true)
        }
    }

    /// The lookup of `podgate_exact` (a single port, hashed) then the LPM trie
    /// `podgate_policy` (the shorter prefixes): together the longest stored
    /// prefix of (class, source, protocol, port), from a single port up to "everything".
    public static func policyLookup(_ state: DesiredState, _ targetClass: TargetClassID, _ source: IdentityID,
                                    _ port: UInt16, _ transport: TransportProtocol) -> PolicyValue? {
        for bits in stride(from: 16, through: 0, by: -1) {
            let key = PolicyKey(targetClass: targetClass, source: source, transport: transport, port: port, portPrefixBits: bits)
            if let value = state.policy[key] { return value }
        }
        return state.policy[PolicyKey(targetClass: targetClass, source: source, transport: nil)]
    }
}
