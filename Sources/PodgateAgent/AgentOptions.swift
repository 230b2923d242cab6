import Foundation
import PodgateCLI
import PodgateLog
import PodgateCompiler
import PodgateModel

/// `podgate agent` flags, validated into values.
public struct AgentOptions: Sendable {
    public var manifestsDirectory: String?
    /// Kubernetes mode: a kubeconfig file; nil means the in-cluster configuration.
    public var kubeconfig: String?
    public var cgroupRoot: String?
    public var pinDirectory: String
    public var stateDirectory: String
    public var eventsFile: String?
    public var settings: AgentSettings
    public var cleanup: Bool
    public var limits: StateLimits
    /// HOST:PORT of /metrics, /healthz and /readyz; port 0 picks a free one (written to <state-dir>/health-address).
    public var healthAddress: String
    /// Close open connections that a change makes refused (bpf/revoke.bpf.c).
    public var revokeEstablished: Bool
    /// The node's non-pod interfaces that get the edge filter (anti-spoofing for packets from outside the node).
    public var edgeInterfaces: [String]
    /// `--edge-interfaces auto` (the Kubernetes mode default): the agent picks
    /// them (`EdgeSelection`) and follows interfaces that appear and go.
    public var autoEdgeInterfaces: Bool
    /// `--log-level`: debug adds libbpf's debug output (the verifier log of a refused program included).
    public var logLevel: Logger.Level
    public var controlSocket: String { AgentDefaults.controlSocket(stateDirectory: stateDirectory) }

    public static let spec = CommandSpec(
        name: "podgate agent",
        summary: "Run the node agent: load the BPF programs, keep the maps equal to the policies, report refusals.",
        flags: [
            .init("manifests", value: "DIR", help: "Local mode: read Namespace, Pod and NetworkAuthenticationPolicy YAML from DIR and follow its changes"),
            .init("kubeconfig", value: "FILE", default: "the in-cluster service account", help: "Kubernetes mode: reach the API server with FILE's current context"),
            .init("node-name", value: "NAME", default: "$NODE_NAME, else the host name", help: "This node: pods whose spec.nodeName is NAME (or unset, in local mode) are local"),
            .init("cgroup-root", value: "PATH", help: "Cgroup directory holding the local pods' cgroups; programs attach here (local mode: required; Kubernetes mode: the first of <cgroup2>/kubepods.slice, <cgroup2>/kubepods, <cgroup2>/kubelet.slice/kubelet-kubepods.slice, <cgroup2>/kubelet/kubepods that exists)"),
            .init("pin-dir", value: "PATH", default: AgentDefaults.pinDirectory, help: "Where maps and links are pinned; they survive agent restarts"),
            .init("state-dir", value: "DIR", default: AgentDefaults.stateDirectory, help: "Where the agent writes its status files"),
            .init("events-file", value: "FILE", help: "Append denied and audit events to FILE, one JSON object per line"),
            .init("node-address", value: "IP", help: "A host address of this node (repeatable): connections from it count as from the node (Kubernetes mode default: $HOST_IPS, else $HOST_IP)"),
            .init("cluster-networks", value: "CIDR,...", help: "The cluster's pod networks, for the cluster-* default policies"),
            .init("default-inbound-policy", value: "POLICY", default: "all-unauthenticated", help: "all-unauthenticated, cluster-unauthenticated, all-authenticated, cluster-authenticated, deny or audit"),
            .init("allow-from-host", value: "BOOL", default: "true", help: "Allow connections from this node's own addresses (kubelet probes)"),
            .init("edge-interfaces", value: "auto|none|IFACE,...", default: "auto in Kubernetes mode, none in local mode", help: "The node's non-pod interfaces (uplinks, tunnel devices): a packet arriving there that claims this node's or a local pod's address is dropped and counted (tc ingress). auto: every interface that is up and is not loopback, a pod's veth, a veth pair inside the node or a bridge with pod ports, re-scanned every few seconds"),
            .init("unknown-pod-policy", value: "allow|deny", default: "deny", help: "Inbound connections to a pod cgroup the agent has not registered yet"),
            .init("revoke-established", value: "BOOL", default: "true", help: "Close open connections (TCP, connected UDP) of local pods when a change refuses them; false keeps them open until they end"),
            .init("health-address", value: "HOST:PORT", default: AgentDefaults.healthAddress, help: "Serve /metrics, /healthz and /readyz here (port 0: any free port, written to <state-dir>/health-address)"),
            .init("log-level", value: "LEVEL", default: "info", help: "debug, info, warning or error; debug adds libbpf's debug output (verifier logs included); libbpf's warnings always show"),
            .init("cleanup", help: "Remove every program, link and pin this agent owns under --pin-dir, then exit"),
        ] + StateLimits.flags,
        details: """
        Without --manifests the agent runs in Kubernetes mode: it lists and watches Namespaces, Pods and
        NetworkAuthenticationPolicies, finds this node's pod cgroups under the kubelet's hierarchy (systemd
        or cgroupfs driver), and enforces nothing new before the first complete list of each.
        Pods in local mode live in <cgroup-root>/<namespace>_<name>. Enforcement outlives the agent:
        programs stay attached through pinned links, so stopping or restarting the agent opens no gap.
        Use --cleanup to remove them. The agent answers `podgate status`, `explain`, `events tail` and
        `maps dump` on <state-dir>/agent.sock (mode 0600).
        """)

    public init(_ arguments: ParsedArguments) throws {
        let spec = Self.spec
        manifestsDirectory = arguments.value("manifests")
        kubeconfig = arguments.value("kubeconfig")
        if manifestsDirectory != nil, kubeconfig != nil {
            throw UsageError("--manifests (local mode) and --kubeconfig (Kubernetes mode) exclude each other")
        }
        cgroupRoot = arguments.value("cgroup-root")
        pinDirectory = arguments.string("pin-dir", spec: spec) ?? AgentDefaults.pinDirectory
        stateDirectory = arguments.string("state-dir", spec: spec) ?? AgentDefaults.stateDirectory
        eventsFile = arguments.value("events-file")
        cleanup = arguments.has("cleanup")
        limits = try StateLimits(arguments)
        healthAddress = arguments.string("health-address", spec: spec) ?? AgentDefaults.healthAddress
        revokeEstablished = try arguments.bool("revoke-established", default: true)
        let edges = arguments.list("edge-interfaces")
        switch edges {
        case []: autoEdgeInterfaces = manifestsDirectory == nil; edgeInterfaces = []
        case ["auto"]: autoEdgeInterfaces = true; edgeInterfaces = []
        case ["none"]: autoEdgeInterfaces = false; edgeInterfaces = []
        default:
            if let word = edges.first(where: { $0 == "auto" || $0 == "none" }) {
                throw UsageError("--edge-interfaces: \"\(word)\" stands alone, not in a list of interfaces")
            }
            autoEdgeInterfaces = false; edgeInterfaces = edges
        }
        let levelText = arguments.value("log-level") ?? "info"
        guard let level = Logger.Level(name: levelText) else {
            throw UsageError("--log-level \"\(levelText)\" is not one of debug, info, warning, error")
        }
        logLevel = level

        let policyText = arguments.string("default-inbound-policy", spec: spec) ?? "all-unauthenticated"
        guard let defaultPolicy = DefaultInboundPolicy(rawValue: policyText) else {
            throw UsageError("--default-inbound-policy \"\(policyText)\" is not one of \(DefaultInboundPolicy.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        var networks: [CIDR] = []
        for text in arguments.list("cluster-networks") {
            guard let cidr = CIDR(text) else { throw UsageError("--cluster-networks: \"\(text)\" is not a CIDR such as 10.244.0.0/16") }
            networks.append(cidr)
        }
        var addresses: [IPAddress] = []
        for text in arguments.list("node-address") {
            guard let address = IPAddress(text) else { throw UsageError("--node-address: \"\(text)\" is not an IP address") }
            addresses.append(address)
        }
        if addresses.isEmpty, manifestsDirectory == nil {
            addresses = try Self.downwardAPIAddresses(ProcessInfo.processInfo.environment)
        }
        let unknown = arguments.value("unknown-pod-policy") ?? "deny"
        guard unknown == "allow" || unknown == "deny" else {
            throw UsageError("--unknown-pod-policy must be allow or deny, not \"\(unknown)\"")
        }
        let nodeName = arguments.value("node-name")
            ?? ProcessInfo.processInfo.environment["NODE_NAME"]
            ?? ProcessInfo.processInfo.hostName
        guard !pinDirectory.isEmpty, pinDirectory.hasPrefix("/") else {
            throw UsageError("--pin-dir must be an absolute path inside bpffs, such as \(AgentDefaults.pinDirectory)")
        }
        settings = AgentSettings(defaultInboundPolicy: defaultPolicy, clusterNetworks: networks,
                                 allowFromHost: try arguments.bool("allow-from-host", default: true),
                                 denyUnknownPods: unknown == "deny", nodeName: nodeName, nodeAddresses: addresses)
    }

    /// The node's addresses as the DaemonSet passes them (downward API
    /// `status.hostIPs`, comma-separated, else `status.hostIP`).
    static func downwardAPIAddresses(_ environment: [String: String]) throws -> [IPAddress] {
        for name in ["HOST_IPS", "HOST_IP"] {
            guard let value = environment[name], !value.isEmpty else { continue }
            return try value.split(separator: ",").map { part in
                let text = part.trimmingCharacters(in: .whitespaces)
                guard let address = IPAddress(text) else { throw UsageError("$\(name): \"\(text)\" is not an IP address") }
                return address
            }
        }
        return []
    }
}
