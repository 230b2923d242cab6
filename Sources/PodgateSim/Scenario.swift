import PodgateModel

/// A scenario file, decoded but not yet checked against its manifests
/// (which pods exist is only known once the manifests are parsed: see `ScenarioPlan`).
public struct Scenario: Sendable, Equatable {
    public var name: String
    public var description: String?
    public var agent: ScenarioAgentOptions
    public var externals: [External]
    /// YAML documents (Namespace, Pod, NetworkAuthenticationPolicy), still text.
    public var manifests: String
    public var expect: [Probe]
    public var steps: [Step]
    public var probeTimeoutSeconds: Double

    public init(name: String, description: String? = nil, agent: ScenarioAgentOptions = ScenarioAgentOptions(),
                externals: [External] = [], manifests: String = "", expect: [Probe] = [],
                steps: [Step] = [], probeTimeoutSeconds: Double = 1) {
        self.name = name
        self.description = description
        self.agent = agent
        self.externals = externals
        self.manifests = manifests
        self.expect = expect
        self.steps = steps
        self.probeTimeoutSeconds = probeTimeoutSeconds
    }
}

/// The agent flags a scenario may set; nil means the agent's own default.
public struct ScenarioAgentOptions: Sendable, Equatable {
    public var defaultInboundPolicy: DefaultInboundPolicy?
    public var clusterNetworks: [CIDR]?
    public var allowFromHost: Bool?

    public init(defaultInboundPolicy: DefaultInboundPolicy? = nil, clusterNetworks: [CIDR]? = nil, allowFromHost: Bool? = nil) {
        self.defaultInboundPolicy = defaultInboundPolicy
        self.clusterNetworks = clusterNetworks
        self.allowFromHost = allowFromHost
    }

    /// The agent's command-line flags for these options.
    public var arguments: [String] {
        var out: [String] = []
        if let p = defaultInboundPolicy { out += ["--default-inbound-policy", p.rawValue] }
        if let n = clusterNetworks { out += ["--cluster-networks", n.map(\.description).joined(separator: ",")] }
        if let h = allowFromHost { out += ["--allow-from-host", h ? "true" : "false"] }
        return out
    }
}

public struct External: Sendable, Equatable {
    public var name: String
    public var address: IPAddress
    public init(name: String, address: IPAddress) { self.name = name; self.address = address }
}

/// Where a probe starts.
public enum Endpoint: Hashable, Sendable, CustomStringConvertible {
    case pod(PodRef)
    case host(node: String)
    case external(String)

    public var description: String {
        switch self {
        case .pod(let ref): return ref.description
        case .host(let node): return "host/\(node)"
        case .external(let name): return "external/\(name)"
        }
    }
}

public enum AddressFamily: String, Hashable, Sendable, CaseIterable {
    case ipv4
    case ipv6
    case ipv4Mapped = "ipv4-mapped"
}

public enum ExpectedVerdict: String, Hashable, Sendable {
    case allow, deny
    var symbol: String { self == .allow ? "." : "X" }
}

/// The event a probe expects: which end refused it and why. The words are
/// the event record's (`EventRecord`); a scenario names only these.
public struct EventCheck: Hashable, Sendable {
    public var side: EventRecord.Side
    public var reason: DecisionReason
    public init(side: EventRecord.Side, reason: DecisionReason) { self.side = side; self.reason = reason }

    /// `where`: the two ends of a connection (egress is no probe's refusal).
    public static let sides: [EventRecord.Side] = [.client, .server]
    /// `reason`: what a probe can be refused for.
    public static let reasons: [DecisionReason] = [.defaultDeny, .notAuthorized, .notCluster, .notAuthenticated, .unknownPod]
}

public struct Probe: Hashable, Sendable {
    public var from: Endpoint
    public var to: PodRef
    public var port: Int
    public var transport: TransportProtocol
    public var family: AddressFamily
    public var verdict: ExpectedVerdict
    public var event: EventCheck?
    /// Where it was written, for error messages: `expect[2]`, `steps[0].expect.matrix["a/b -> c/d"][1]`.
    public var field: String

    public init(from: Endpoint, to: PodRef, port: Int, transport: TransportProtocol = .tcp, family: AddressFamily = .ipv4,
                verdict: ExpectedVerdict, event: EventCheck? = nil, field: String = "") {
        self.from = from
        self.to = to
        self.port = port
        self.transport = transport
        self.family = family
        self.verdict = verdict
        self.event = event
        self.field = field
    }

    /// The matrix column this probe belongs to: `8080/TCP`, or `8080/TCP/ipv6` off the default family.
    var column: String {
        family == .ipv4 ? "\(port)/\(transport.rawValue)" : "\(port)/\(transport.rawValue)/\(family.rawValue)"
    }
}

/// An object of the manifests, as a step names it.
public struct ScenarioObjectKey: Hashable, Sendable, CustomStringConvertible {
    public var kind: String
    public var namespace: String?
    public var name: String
    public init(kind: String, namespace: String?, name: String) {
        self.kind = kind
        self.namespace = namespace
        self.name = name
    }
    public var description: String { namespace.map { "\(kind) \($0)/\(name)" } ?? "\(kind) \(name)" }
}

public struct Step: Sendable, Equatable {
    public var apply: String?
    public var delete: [ScenarioObjectKey]
    public var expect: [Probe]
    /// Connections opened before this step's change and held across it.
    public var hold: [HeldConnection]
    public init(apply: String? = nil, delete: [ScenarioObjectKey] = [], expect: [Probe] = [], hold: [HeldConnection] = []) {
        self.apply = apply
        self.delete = delete
        self.expect = expect
        self.hold = hold
    }
}

/// A step's `hold` entry: a connection opened (and echoing) before the
/// step's change, then expected to be `cut` by it (revocation) or `kept`.
public struct HeldConnection: Hashable, Sendable {
    /// from, to, port, protocol, family and field; its verdict is `allow`
    /// (the connection must open in the state before the step).
    public var probe: Probe
    public var cut: Bool
    public init(probe: Probe, cut: Bool) {
        self.probe = probe
        self.cut = cut
    }
}
