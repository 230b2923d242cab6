/// One denied, audited or revoked connection as the agent reports it: a JSON
/// object per line in `--events-file`, in `podgate events tail -o json`, and
/// in the simulator's checks (policy-semantics.md, "Events"). The one
/// definition: the agent writes it, the simulator, the CLI and the tests
/// decode it. Field names and the words of the enums are the user-facing
/// contract. Codable only; the writer's JSON settings are the agent's.
public struct EventRecord: Codable, Sendable, Equatable {
    /// Where the decision was taken.
    public enum Side: String, Codable, Sendable, CaseIterable {
        case server, client
        /// A packet leaving a pod with a forged source (anti-spoofing).
        case egress
    }

    public enum Verdict: String, Codable, Sendable, CaseIterable {
        case denied, audit
        /// An open connection a change made refused, closed.
        case revoked
    }

    /// What the source is when it is not a known pod.
    public enum SourceKind: String, Codable, Sendable, CaseIterable {
        case pod, host, world
        case remoteNode = "remote-node"
        case unknownPod = "unknown-pod"
    }

    public var time: String          // RFC 3339, UTC
    public var node: String
    public var `where`: Side
    public var verdict: Verdict
    public var reason: DecisionReason
    public var `protocol`: String    // TCP | UDP, or the IP protocol number of another
    public var src: String
    public var srcPort: Int
    public var dst: String
    public var dstPort: Int
    public var srcPod: String?       // namespace/name, or nil
    public var srcKind: SourceKind
    public var dstPod: String?
    public var policies: [String]    // namespace/name of the policies that select the target on that port
    public var pid: Int?
    public var comm: String?
    /// What the valid policies selecting the destination would allow (the nearest miss).
    public var nearestMiss: [String]?
    /// The destination's default inbound policy and where it comes from, when it decided.
    public var defaultPolicy: String?
    /// A `revoked` event: the change that made the connection refused.
    public var change: [String]?

    public init(time: String, node: String, where: Side, verdict: Verdict, reason: DecisionReason, protocol: String,
                src: String, srcPort: Int, dst: String, dstPort: Int, srcPod: String?, srcKind: SourceKind,
                dstPod: String?, policies: [String], pid: Int?, comm: String?,
                nearestMiss: [String]? = nil, defaultPolicy: String? = nil, change: [String]? = nil) {
        self.time = time
        self.node = node
        self.where = `where`
        self.verdict = verdict
        self.reason = reason
        self.protocol = `protocol`
        self.src = src
        self.srcPort = srcPort
        self.dst = dst
        self.dstPort = dstPort
        self.srcPod = srcPod
        self.srcKind = srcKind
        self.dstPod = dstPod
        self.policies = policies
        self.pid = pid
        self.comm = comm
        self.nearestMiss = nearestMiss
        self.defaultPolicy = defaultPolicy
        self.change = change
    }

    /// The line a person reads in the agent's log and in `events tail`.
    public var summary: String {
        let from = srcPod ?? srcKind.rawValue
        let to = dstPod ?? dst
        let process = pid.map { " by pid \($0)" + (comm.map { " (\($0))" } ?? "") } ?? ""
        var considered = policies.isEmpty ? "" : " policies: \(policies.joined(separator: ", "))"
        if let change, !change.isEmpty { considered += " after: \(change.joined(separator: "; "))" }
        return "\(verdict.rawValue) \(`where`.rawValue) \(`protocol`) \(from) \(src)\(srcPort == 0 ? "" : ":\(srcPort)") -> \(to) \(dst):\(dstPort) reason=\(reason)\(process)\(considered)"
    }
}

/// In an event a reason is its name (`default-deny`), not the ABI number.
extension DecisionReason: Codable {
    public init?(name: String) {
        guard let reason = Self.allCases.first(where: { $0.description == name }) else { return nil }
        self = reason
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let name = try container.decode(String.self)
        guard let reason = DecisionReason(name: name) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "\"\(name)\" is not a reason")
        }
        self = reason
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
