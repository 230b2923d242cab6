/// Why a connection was refused (or audited). The numbers mirror
/// `enum podgate_reason` in podgate_abi.h and never change meaning.
public enum DecisionReason: UInt8, Hashable, Sendable, CaseIterable, CustomStringConvertible {
    case none = 0
    case defaultDeny = 1
    case notAuthorized = 2
    case notCluster = 3
    case notAuthenticated = 4
    case unknownPod = 5
    case spoofedSource = 6

    /// The names events and tools print (policy-semantics.md, "Events").
    public var description: String {
        switch self {
        case .none: "none"
        case .defaultDeny: "default-deny"
        case .notAuthorized: "not-authorized"
        case .notCluster: "not-cluster"
        case .notAuthenticated: "not-authenticated"
        case .unknownPod: "unknown-pod"
        case .spoofedSource: "spoofed-source"
        }
    }
}

/// The outcome of the decision for one inbound connection.
public struct Verdict: Hashable, Sendable {
    /// Which rule of policy-semantics.md decided.
    public enum Basis: Hashable, Sendable {
        /// Loopback, or a pod reaching its own address.
        case samePod
        case fromHost
        case policy
        case defaultPolicy(DefaultInboundPolicy)
        /// The destination is not a policy target (a host-network pod).
        case notATarget
    }

    public var allowed: Bool
    /// Why it was refused, or for an `audit` allow, why `deny` would have refused.
    public var reason: DecisionReason
    public var audited: Bool
    public var basis: Basis
    /// The valid policies that cover the port (rule 3), sorted.
    public var policiesConsidered: [PolicyRef]
    /// The first of them whose sources matched, when allowed by a policy.
    public var matchedPolicy: PolicyRef?

    public init(allowed: Bool, reason: DecisionReason = .none, audited: Bool = false, basis: Basis,
                policiesConsidered: [PolicyRef] = [], matchedPolicy: PolicyRef? = nil) {
        self.allowed = allowed
        self.reason = reason
        self.audited = audited
        self.basis = basis
        self.policiesConsidered = policiesConsidered
        self.matchedPolicy = matchedPolicy
    }
}
