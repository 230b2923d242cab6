import FoundationEssentials

/// One denied or audited connection as the agent reports it: a JSON object
/// per line in `--events-file`, in `podgate events tail -o json`, and in the
/// simulator's checks. Field names are part of the user-facing contract.
public struct EventRecord: Codable, Sendable, Equatable {
    public var time: String          // RFC 3339, UTC
    public var node: String
    public var `where`: String       // server | client
    public var verdict: String       // denied | audit | revoked
    public var reason: String        // default-deny | not-authorized | not-cluster | not-authenticated | unknown-pod
    public var `protocol`: String    // TCP | UDP
    public var src: String
    public var srcPort: Int
    public var dst: String
    public var dstPort: Int
    public var srcPod: String?       // namespace/name, or nil
    public var srcKind: String       // pod | host | remote-node | world | unknown-pod
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

    public init(time: String, node: String, where: String, verdict: String, reason: String, protocol: String,
                src: String, srcPort: Int, dst: String, dstPort: Int, srcPod: String?, srcKind: String,
                dstPod: String?, policies: [String], pid: Int?, comm: String?,
                nearestMiss: [String]? = nil, defaultPolicy: String? = nil) {
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
    }

    /// One JSON object, keys sorted. Pass an encoder from `jsonEncoder()` to
    /// reuse it on a per-event path.
    public func jsonLine(using encoder: JSONEncoder = EventRecord.jsonEncoder()) -> String {
        guard let data = try? encoder.encode(self) else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }

    public static func jsonEncoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }

    /// The line a person reads in the agent's log and in `events tail`.
    public var summary: String {
        let from = srcPod ?? srcKind
        let to = dstPod ?? dst
        let process = pid.map { " by pid \($0)" + (comm.map { " (\($0))" } ?? "") } ?? ""
        var considered = policies.isEmpty ? "" : " policies: \(policies.joined(separator: ", "))"
        if let change, !change.isEmpty { considered += " after: \(change.joined(separator: "; "))" }
        return "\(verdict) \(`where`) \(`protocol`) \(from) \(src)\(srcPort == 0 ? "" : ":\(srcPort)") -> \(to) \(dst):\(dstPort) reason=\(reason)\(process)\(considered)"
    }
}
