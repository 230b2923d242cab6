/// What the agent reads from the cluster (or a manifest directory), already
/// decoded and validated. Plain values: the compiler takes these and nothing else.

public enum TransportProtocol: String, Hashable, Sendable, CaseIterable, Comparable {
    case tcp = "TCP"
    case udp = "UDP"

    /// The IPPROTO_* number the kernel uses.
    public var number: UInt8 { self == .tcp ? 6 : 17 }

    public static func < (a: Self, b: Self) -> Bool { a.number < b.number }
}

/// The six default inbound policies, with the annotation values users write.
public enum DefaultInboundPolicy: String, Hashable, Sendable, CaseIterable {
    case allUnauthenticated = "all-unauthenticated"
    case clusterUnauthenticated = "cluster-unauthenticated"
    case allAuthenticated = "all-authenticated"
    case clusterAuthenticated = "cluster-authenticated"
    case deny = "deny"
    case audit = "audit"

    public static let annotation = "config.linkerd.io/default-inbound-policy"
}

public struct PodRef: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var namespace: String
    public var name: String
    public init(namespace: String, name: String) { self.namespace = namespace; self.name = name }
    public var description: String { "\(namespace)/\(name)" }
    public static func < (a: Self, b: Self) -> Bool { (a.namespace, a.name) < (b.namespace, b.name) }
}

public typealias PolicyRef = PodRef

public struct Namespace: Hashable, Sendable {
    public var name: String
    public var labels: [String: String]
    /// The raw annotation value; an unknown value is reported and ignored.
    public var defaultInboundPolicy: String?

    public init(name: String, labels: [String: String] = [:], defaultInboundPolicy: String? = nil) {
        self.name = name
        self.labels = labels
        self.defaultInboundPolicy = defaultInboundPolicy
    }
}

public struct ContainerPort: Hashable, Sendable {
    public var name: String?
    public var port: Int
    public var transport: TransportProtocol
    public init(name: String? = nil, port: Int, transport: TransportProtocol = .tcp) {
        self.name = name
        self.port = port
        self.transport = transport
    }
}

public struct Pod: Hashable, Sendable {
    public var namespace: String
    public var name: String
    public var uid: String
    public var labels: [String: String]
    /// The raw annotation value; overrides the namespace's.
    public var defaultInboundPolicy: String?
    public var serviceAccount: String
    public var ports: [ContainerPort]
    public var hostNetwork: Bool
    public var nodeName: String?
    public var addresses: [IPAddress]
    /// Annotations other than the policy one, kept for tools (the simulator reads its own).
    public var annotations: [String: String]
    /// `status.phase`; nil when not reported (a manifest written by hand).
    public var phase: String?
    /// `metadata.deletionTimestamp` is set: the pod is terminating (perhaps
    /// held by a finalizer) and its address may already be another pod's.
    public var isTerminating: Bool
    /// `metadata.creationTimestamp` (RFC 3339, UTC, as the API server writes it).
    public var creationTimestamp: String?
    /// On this node: the addresses seen in the pod's own network namespace.
    /// They decide a contested address that the API also reports for this pod.
    public var netnsAddresses: [IPAddress]
    /// False while `addresses` come only from the pod's network namespace
    /// (the kubelet has not reported status.podIPs yet): such a claim never
    /// takes an address from a pod the API reports it for.
    public var addressesReported: Bool

    public init(namespace: String, name: String, uid: String = "", labels: [String: String] = [:],
                defaultInboundPolicy: String? = nil, serviceAccount: String = "default",
                ports: [ContainerPort] = [], hostNetwork: Bool = false, nodeName: String? = nil,
                addresses: [IPAddress] = [], annotations: [String: String] = [:],
                phase: String? = nil, isTerminating: Bool = false, creationTimestamp: String? = nil,
                netnsAddresses: [IPAddress] = [], addressesReported: Bool = true) {
        self.namespace = namespace
        self.name = name
        self.uid = uid
        self.labels = labels
        self.defaultInboundPolicy = defaultInboundPolicy
        self.serviceAccount = serviceAccount
        self.ports = ports
        self.hostNetwork = hostNetwork
        self.nodeName = nodeName
        self.addresses = addresses
        self.annotations = annotations
        self.phase = phase
        self.isTerminating = isTerminating
        self.creationTimestamp = creationTimestamp
        self.netnsAddresses = netnsAddresses
        self.addressesReported = addressesReported
    }

    public var ref: PodRef { PodRef(namespace: namespace, name: name) }

    /// Phases in which a pod has stopped for good: its address is free.
    public static let finishedPhases: Set<String> = ["Succeeded", "Failed"]

    public var isFinished: Bool { phase.map(Self.finishedPhases.contains) ?? false }

    /// Running or about to run, and not being deleted.
    public var isLive: Bool { !isFinished && !isTerminating }
}

/// The cluster as the compiler sees it.
public struct ClusterSnapshot: Hashable, Sendable {
    public var namespaces: [String: Namespace]
    public var pods: [PodRef: Pod]
    public var policies: [PolicyRef: Policy]
    /// Policies that failed validation: reported, never enforced.
    public var invalidPolicies: [PolicyRef: Diagnostic]

    public init(namespaces: [String: Namespace] = [:], pods: [PodRef: Pod] = [:],
                policies: [PolicyRef: Policy] = [:], invalidPolicies: [PolicyRef: Diagnostic] = [:]) {
        self.namespaces = namespaces
        self.pods = pods
        self.policies = policies
        self.invalidPolicies = invalidPolicies
    }
}

/// A problem with one object, named by object and field:
/// `demo/frontend-can-talk-to-backend: spec.ports[0].endPort 8000 is below port 8081`.
public struct Diagnostic: Hashable, Sendable, CustomStringConvertible, Error {
    public var object: String   // "namespace/name", a file, or "file: kind namespace/name"
    public var field: String    // "spec.ports[0].endPort", or "" for the whole object
    public var message: String

    public init(object: String, field: String, message: String) {
        self.object = object
        self.field = field
        self.message = message
    }

    public var description: String {
        field.isEmpty ? "\(object): \(message)" : "\(object): \(field) \(message)"
    }
}

/// The agent's own flags that change decisions.
public struct AgentSettings: Hashable, Sendable {
    public var defaultInboundPolicy: DefaultInboundPolicy
    public var clusterNetworks: [CIDR]
    public var allowFromHost: Bool
    /// Inbound connections to a pod cgroup the agent has not registered yet.
    public var denyUnknownPods: Bool
    /// The node this agent runs on: pods with this `spec.nodeName` are local.
    public var nodeName: String
    /// This node's host addresses (the source of kubelet probes).
    public var nodeAddresses: [IPAddress]

    public init(defaultInboundPolicy: DefaultInboundPolicy = .allUnauthenticated, clusterNetworks: [CIDR] = [],
                allowFromHost: Bool = true, denyUnknownPods: Bool = true, nodeName: String = "a",
                nodeAddresses: [IPAddress] = []) {
        self.defaultInboundPolicy = defaultInboundPolicy
        self.clusterNetworks = clusterNetworks
        self.allowFromHost = allowFromHost
        self.denyUnknownPods = denyUnknownPods
        self.nodeName = nodeName
        self.nodeAddresses = nodeAddresses
    }
}
