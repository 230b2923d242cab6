import PodgateModel

/// One refused or audited connection, decoded from `struct podgate_event`.
/// Identities and pod numbers are the agent's; resolving them to names is
/// the caller's job (it holds the state that assigned them).
public struct DatapathEvent: Hashable, Sendable {
    /// Where the decision was taken (`enum podgate_where`).
    public enum Location: UInt8, Hashable, Sendable, CustomStringConvertible {
        case server = 0
        case client = 1
        case egress = 2   // a packet leaving a pod with a forged source (anti-spoofing)
        public var description: String {
            switch self {
            case .server: "server"
            case .client: "client"
            case .egress: "egress"
            }
        }
    }

    /// `enum podgate_verdict`.
    public enum Verdict: UInt8, Hashable, Sendable, CaseIterable, CustomStringConvertible {
        case allowed = 0
        case denied = 1
        case audit = 2
        case revoked = 3  // an open connection the new state refuses, closed (bpf/revoke.bpf.c)
        public var description: String {
            switch self {
            case .allowed: "allowed"
            case .denied: "denied"
            case .audit: "audit"
            case .revoked: "revoked"
            }
        }
    }

    /// `enum podgate_reason`: the model's `DecisionReason` (one list of
    /// reasons for the kernel, the compiler and the tools; ABITests checks
    /// its numbers against the C enum).
    public typealias Reason = DecisionReason

    public var timestampNanoseconds: UInt64   // CLOCK_MONOTONIC
    public var cgroup: CgroupID               // the local pod cgroup that decided
    public var location: Location
    public var verdict: Verdict
    public var reason: Reason
    public var transportNumber: UInt8         // IPPROTO_*
    public var source: IPAddress              // :: on the client side (not known at connect time)
    public var sourcePort: UInt16             // 0 on the client side
    public var destination: IPAddress
    public var destinationPort: UInt16
    public var sourceIdentity: IdentityID
    public var destinationIdentity: IdentityID
    public var targetClass: TargetClassID
    public var policyIndex: UInt32            // a covering policy when not-authorized, else 0
    public var sourcePodID: UInt32
    public var destinationPodID: UInt32
    public var pid: Int32?                    // client side: the process that tried
    public var command: String?

    public var transport: TransportProtocol? { TransportProtocol.allCases.first { $0.number == transportNumber } }

    public init(timestampNanoseconds: UInt64, cgroup: CgroupID, location: Location, verdict: Verdict, reason: Reason,
                transportNumber: UInt8, source: IPAddress, sourcePort: UInt16, destination: IPAddress,
                destinationPort: UInt16, sourceIdentity: IdentityID, destinationIdentity: IdentityID,
                targetClass: TargetClassID, policyIndex: UInt32, sourcePodID: UInt32, destinationPodID: UInt32,
                pid: Int32?, command: String?) {
        self.timestampNanoseconds = timestampNanoseconds
        self.cgroup = cgroup
        self.location = location
        self.verdict = verdict
        self.reason = reason
        self.transportNumber = transportNumber
        self.source = source
        self.sourcePort = sourcePort
        self.destination = destination
        self.destinationPort = destinationPort
        self.sourceIdentity = sourceIdentity
        self.destinationIdentity = destinationIdentity
        self.targetClass = targetClass
        self.policyIndex = policyIndex
        self.sourcePodID = sourcePodID
        self.destinationPodID = destinationPodID
        self.pid = pid
        self.command = command
    }
}
