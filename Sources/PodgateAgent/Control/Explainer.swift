import PodgateCompiler
import PodgateModel

public struct ExplainQuery: Codable, Sendable, Equatable {
    /// `NS/POD`, an IP address, or `host/NODE`.
    public var from: String
    /// `NS/POD`.
    public var to: String
    public var port: Int
    public var `protocol`: String
    /// ipv4 | ipv6: which of the pods' addresses the connection uses.
    public var family: String
    public init(from: String, to: String, port: Int, protocol: String = "TCP", family: String = "ipv4") {
        self.from = from
        self.to = to
        self.port = port
        self.protocol = `protocol`
        self.family = family
    }
}

/// `podgate explain`: the reference decision (`Decision.evaluate`, straight
/// from policy-semantics.md) over the agent's snapshot, checked against the
/// kernel's maps as they are now (`MapLookup` over the realized state).
/// Pure: the caller reads the maps.
public enum Explainer {
    public static func explain(_ query: ExplainQuery, state: PublishedState, realized: DesiredState?) throws -> Explanation {
        let snapshot = state.snapshot
        guard let transport = TransportProtocol(rawValue: query.protocol.uppercased()) else {
            throw AgentError.configuration("--protocol \(query.protocol) is not TCP or UDP")
        }
        guard (1...65535).contains(query.port) else { throw AgentError.configuration("--port \(query.port) is not in 1...65535") }
        let target = try podRef(query.to, flag: "--to")
        guard let pod = snapshot.pods[target] else {
            throw AgentError.configuration("--to \(query.to): the agent knows no pod \(target) (check the namespace and name)")
        }
        let source = try trafficSource(query.from, snapshot: snapshot)
        var family: IPFamily = query.family == "ipv6" ? .ipv6 : .ipv4
        if case let .address(address) = source { family = address.isIPv4 ? .ipv4 : .ipv6 }
        let wantsV4 = family == .ipv4
        guard let verdict = Decision.evaluate(snapshot, settings: state.settings, from: source, to: target,
                                              port: query.port, transport: transport, family: family) else {
            throw AgentError.configuration("--to \(query.to) is not a pod the decision applies to")
        }
        let sourceAddress = address(of: source, snapshot: snapshot, settings: state.settings, ipv4: wantsV4)
        let destinationAddress = pod.addresses.first { $0.isIPv4 == wantsV4 }

        var explanation = Explanation(
            from: source.description, to: target.description, port: query.port, protocol: transport.rawValue,
            family: wantsV4 ? "ipv4" : "ipv6", sourceAddress: sourceAddress?.description,
            destinationAddress: destinationAddress?.description,
            verdict: verdict.audited ? "audit" : (verdict.allowed ? "allowed" : "denied"),
            reason: verdict.reason.description, rule: rule(verdict), policiesConsidered: verdict.policiesConsidered.map(\.description),
            matchedPolicy: verdict.matchedPolicy?.description, defaultPolicy: nil, defaultPolicyOrigin: nil,
            nearestMiss: PolicyWording.nearestMiss(snapshot, target: target), kernelServer: nil, kernelClient: nil,
            agreesWithKernel: nil, notes: [])
        if case let .defaultPolicy(policy) = verdict.basis {
            explanation.defaultPolicy = policy.rawValue
            explanation.defaultPolicyOrigin = PolicyWording.defaultPolicyOrigin(of: pod, in: snapshot)
        }
        guard let realized else {
            explanation.notes.append("the kernel's maps are not configured yet: not cross-checked")
            return explanation
        }
        crossCheck(&explanation, verdict: verdict, realized: realized, state: state, source: source, target: target,
                   sourceAddress: sourceAddress, destinationAddress: destinationAddress, transport: transport)
        return explanation
    }

    static func crossCheck(_ explanation: inout Explanation, verdict: Verdict, realized: DesiredState, state: PublishedState,
                           source: TrafficSource, target: PodRef, sourceAddress: IPAddress?, destinationAddress: IPAddress?,
                           transport: TransportProtocol) {
        let pods = state.compilation.allocation.pods
        let policyNames = state.compilation.policies
        let port = UInt16(explanation.port)
        func cgroup(of ref: PodRef) -> CgroupID? {
            guard let id = pods[ref] else { return nil }
            return realized.endpoints.first { $0.value.podID == id }?.key
        }
        func view(_ result: MapLookup.Result) -> Explanation.KernelView {
            Explanation.KernelView(verdict: result.audited ? "audit" : (result.allowed ? "allowed" : "denied"),
                                   reason: result.reason.description,
                                   policy: result.policyIndex == 0 ? nil : (policyNames[result.policyIndex]?.description ?? "policy #\(result.policyIndex)"))
        }
        var kernelAllowed: Bool?
        if case let .pod(ref) = source, let client = cgroup(of: ref), let destinationAddress {
            if let result = MapLookup.client(realized, source: client, destination: destinationAddress, port: port, transport: transport) {
                explanation.kernelClient = view(result)
                if !result.allowed { kernelAllowed = false }
            } else {
                explanation.notes.append("the client side leaves this connection to the server")
            }
        }
        if let server = cgroup(of: target) {
            if let sourceAddress {
                let result = MapLookup.server(realized, target: server, source: sourceAddress, port: port, transport: transport)
                explanation.kernelServer = view(result)
                if kernelAllowed == nil { kernelAllowed = result.allowed }
            } else {
                explanation.notes.append("no source address is known for \(source): the server side was not looked up")
            }
        } else {
            let node = state.snapshot.pods[target]?.nodeName ?? state.settings.nodeName
            explanation.notes.append("\(target) has no cgroup in this node's maps (it runs on node \(node)): ask that node's agent for the server side")
        }
        if let kernelAllowed { explanation.agreesWithKernel = kernelAllowed == verdict.allowed }
    }

    static func rule(_ verdict: Verdict) -> String {
        switch verdict.basis {
        case .samePod: "rule 1: loopback, or the pod reaching its own address"
        case .fromHost: "rule 2: from the node the pod runs on (--allow-from-host)"
        case .policy: verdict.allowed ? "rule 3: a policy covering the port authorizes the source"
            : "rule 3: policies cover the port (authorized-only) and none authorizes the source"
        case let .defaultPolicy(policy): "rule 4: no policy covers the port; the default inbound policy \(policy.rawValue) decides"
        case .notATarget: "the destination is a host-network pod: not a policy target"
        }
    }

    static func podRef(_ text: String, flag: String) throws -> PodRef {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
            throw AgentError.configuration("\(flag) \(text) is not NAMESPACE/POD")
        }
        return PodRef(namespace: String(parts[0]), name: String(parts[1]))
    }

    static func trafficSource(_ text: String, snapshot: ClusterSnapshot) throws -> TrafficSource {
        if let address = IPAddress(text) { return .address(address) }
        if text.hasPrefix("host/") { return .node(String(text.dropFirst(5))) }
        let ref = try podRef(text, flag: "--from")
        guard snapshot.pods[ref] != nil else {
            throw AgentError.configuration("--from \(text): the agent knows no pod \(ref); use NS/POD, an IP address or host/NODE")
        }
        return .pod(ref)
    }

    /// The address the source sends from, as the server sees it.
    static func address(of source: TrafficSource, snapshot: ClusterSnapshot, settings: AgentSettings, ipv4: Bool) -> IPAddress? {
        switch source {
        case let .address(address): return address
        case let .pod(ref): return snapshot.pods[ref]?.addresses.first { $0.isIPv4 == ipv4 }
        case let .node(name):
            if name == settings.nodeName, let own = settings.nodeAddresses.first(where: { $0.isIPv4 == ipv4 }) { return own }
            return snapshot.pods.values.sorted { $0.ref < $1.ref }
                .first { $0.hostNetwork && ClusterFacts.node(of: $0, settings: settings) == name }?
                .addresses.first { $0.isIPv4 == ipv4 }
        }
    }
}
