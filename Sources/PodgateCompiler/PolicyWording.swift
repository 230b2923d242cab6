import PodgateModel

/// Policies in words, for people reading a denial at 3 a.m.:
/// `demo/frontend-can-talk-to-backend allows TCP/8080 from pods app=frontend`.
public enum PolicyWording {
    public static func describe(_ policy: Policy) -> String {
        "\(policy.ref) allows \(ports(policy.ports)) from \(sources(policy.sources, namespace: policy.namespace))"
    }

    public static func ports(_ ports: [PolicyPort]) -> String {
        if ports.isEmpty { return "every port" }
        return ports.map { entry in
            switch entry.port {
            case let .number(low, end?) where end != low: "\(entry.transport.rawValue)/\(low)-\(end)"
            case let .number(low, _): "\(entry.transport.rawValue)/\(low)"
            case let .named(name): "\(entry.transport.rawValue)/\(name) (named port)"
            }
        }.joined(separator: ", ")
    }

    public static func sources(_ sources: [PolicySource], namespace: String) -> String {
        if sources.isEmpty { return "nobody (sources: [])" }
        return sources.map { source(entry: $0, namespace: namespace) }.joined(separator: " or ")
    }

    static func source(entry: PolicySource, namespace: String) -> String {
        var parts: [String] = []
        if entry.podSelector != nil || entry.namespaceSelector != nil {
            var text = entry.podSelector.map { selector($0, everything: "any pod") } ?? "any pod"
            if let namespaces = entry.namespaceSelector {
                text += " in namespaces " + selector(namespaces, everything: "(all)")
            } else {
                text += " in \(namespace)"
            }
            parts.append(text)
        }
        if let accounts = entry.serviceAccounts {
            parts.append("service account " + accounts.map { "\($0.namespace)/\($0.name)" }.joined(separator: " or "))
        }
        if let networks = entry.networks {
            parts.append("addresses in " + networks.map { block in
                block.except.isEmpty ? "\(block.cidr)" : "\(block.cidr) except \(block.except.map(\.description).joined(separator: ","))"
            }.joined(separator: " or "))
        }
        return parts.joined(separator: " and ")
    }

    /// `app=frontend,tier in (a,b),!legacy`, or `everything` for `{}`.
    public static func selector(_ selector: LabelSelector, everything: String) -> String {
        var terms = selector.matchLabels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
        for requirement in selector.matchExpressions {
            switch requirement.operator {
            case .in: terms.append("\(requirement.key) in (\(requirement.values.joined(separator: ",")))")
            case .notIn: terms.append("\(requirement.key) notin (\(requirement.values.joined(separator: ",")))")
            case .exists: terms.append(requirement.key)
            case .doesNotExist: terms.append("!\(requirement.key)")
            }
        }
        return terms.isEmpty ? everything : "pods " + terms.joined(separator: ",")
    }

    /// The nearest miss for a connection to `target`: what each valid policy
    /// selecting it allows (on any port), so the fix is obvious. Empty when
    /// no policy selects the pod (its default inbound policy decided).
    public static func nearestMiss(_ snapshot: ClusterSnapshot, target: PodRef) -> [String] {
        guard let pod = snapshot.pods[target] else { return [] }
        return snapshot.policies.values
            .filter { $0.namespace == pod.namespace && $0.target.matches(pod.labels) }
            .sorted { $0.ref < $1.ref }
            .map(describe)
    }

    /// Where a pod's default inbound policy comes from, in words.
    public static func defaultPolicyOrigin(of pod: Pod, in snapshot: ClusterSnapshot) -> String {
        if let raw = pod.defaultInboundPolicy, DefaultInboundPolicy(rawValue: raw) != nil {
            return "annotation on pod \(pod.ref)"
        }
        if let raw = snapshot.namespaces[pod.namespace]?.defaultInboundPolicy, DefaultInboundPolicy(rawValue: raw) != nil {
            return "annotation on namespace \(pod.namespace)"
        }
        return "the agent's --default-inbound-policy"
    }
}
