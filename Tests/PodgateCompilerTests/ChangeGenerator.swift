import PodgateModel
@testable import PodgateCompiler

/// Random changes to a small cluster, drawn from small pools of values so
/// that pods share and swap identities, addresses collide, selectors flip and
/// CIDR classes come and go: every kind of object, every field that matters.
struct ChangeGenerator {
    static let namespaces = ["ns1", "ns2", "ns3"]
    static let podNames = (0..<12).map { "p\($0)" }
    static let policyNames = (0..<6).map { "pol\($0)" }
    static let annotations: [String?] = [nil, nil, nil, "deny", "audit", "all-authenticated", "cluster-unauthenticated",
                                         "cluster-authenticated", "all-unauthenticated", "not-a-policy"]
    /// Pod addresses: few enough that pods claim each other's (and the nodes') addresses.
    static let addresses = ["10.244.0.10", "10.244.0.11", "10.244.0.12", "10.244.0.13", "10.244.1.5", "10.245.0.10",
                            "10.0.0.1", "10.0.0.2", "fd00:10::10", "fd00:10::11", "fd00:10::12", "fd00:ffff::1"].map(ip)
    static let nodeAddresses = ["a": [ip("10.0.0.1"), ip("fd00:ffff::1")], "b": [ip("10.0.0.2"), ip("fd00:ffff::2")]]
    static let cidrs = ["10.244.0.0/16", "10.244.0.0/24", "10.244.0.12/31", "10.244.0.12/32", "0.0.0.0/0", "10.0.0.0/8",
                        "fd00::/16", "fd00:10::/64", "203.0.113.0/24", "10.0.0.2/32", "::/0"].map(cidr)

    static func settings(_ random: inout SeededRandom) -> AgentSettings {
        AgentSettings(defaultInboundPolicy: DefaultInboundPolicy.allCases.randomElement(using: &random) ?? .deny,
                      clusterNetworks: [cidr("10.244.0.0/16"), cidr("fd00:10::/64")].filter { _ in Bool.random(using: &random) },
                      allowFromHost: Bool.random(using: &random), denyUnknownPods: Bool.random(using: &random),
                      nodeName: "a", nodeAddresses: Bool.random(using: &random) ? nodeAddresses["a"]! : [])
    }

    mutating func next(_ cluster: ClusterSnapshot, _ cgroups: [PodRef: CgroupID], _ random: inout SeededRandom) -> ClusterChange {
        switch Int.random(in: 0..<20, using: &random) {
        case 0..<2: return namespaceChange(cluster, &random)
        case 2..<11: return podChange(cluster, &random)
        case 11..<17: return policyChange(cluster, &random)
        case 17: return invalidPolicyChange(cluster, &random)
        default: return cgroupChange(cluster, cgroups, &random)
        }
    }

    static func apply(_ change: ClusterChange, to cluster: inout ClusterSnapshot, _ cgroups: inout [PodRef: CgroupID]) {
        switch change {
        case let .namespace(name, namespace): cluster.namespaces[name] = namespace
        case let .pod(ref, pod): cluster.pods[ref] = pod
        case let .policy(ref, policy): cluster.policies[ref] = policy
        case let .invalidPolicy(ref, diagnostic): cluster.invalidPolicies[ref] = diagnostic
        case let .localCgroup(ref, cgroup): cgroups[ref] = cgroup
        }
    }

    // MARK: - Namespaces: labels (namespace selectors) and the default-policy annotation

    func namespaceChange(_ cluster: ClusterSnapshot, _ random: inout SeededRandom) -> ClusterChange {
        let name = Self.namespaces.randomElement(using: &random)!
        if cluster.namespaces[name] != nil, Int.random(in: 0..<5, using: &random) == 0 { return .namespace(name, nil) }
        var namespace = cluster.namespaces[name] ?? Namespace(name: name)
        switch Int.random(in: 0..<3, using: &random) {
        case 0: namespace.labels["team"] = ["x", "y", nil].randomElement(using: &random)!
        case 1: namespace.labels["env"] = ["prod", nil].randomElement(using: &random)!
        default: namespace.defaultInboundPolicy = Self.annotations.randomElement(using: &random)!
        }
        return .namespace(name, namespace)
    }

    // MARK: - Pods: labels, service account, annotation, ports (named), host network, node, addresses,
    // and what decides a contested address: phase, deletion, creation time, the netns's addresses

    /// `status.phase` (nil: not reported); Succeeded and Failed free the address.
    static let phases: [String?] = [nil, "Pending", "Running", "Running", "Succeeded", "Failed"]
    /// Few values, so that creation times tie; nil counts as oldest.
    static let creationTimes: [String?] = [nil, "2026-11-30T00:00:00Z", "2026-11-30T00:00:05Z", "2026-11-30T01:00:00Z"]

    /// The addresses seen in the pod's network namespace: mostly some of its
    /// own (the holder of a contested one), sometimes another's.
    static func netnsAddresses(of pod: Pod, _ random: inout SeededRandom) -> [IPAddress] {
        var result = pod.addresses.filter { _ in Bool.random(using: &random) }
        if Int.random(in: 0..<4, using: &random) == 0 { result.append(addresses.randomElement(using: &random)!) }
        return result
    }

    /// Random lifecycle fields, as a pod from the API (or a hand-written one) has them.
    static func lifecycle(_ pod: inout Pod, _ random: inout SeededRandom) {
        pod.phase = phases.randomElement(using: &random)!
        pod.isTerminating = Int.random(in: 0..<5, using: &random) == 0
        pod.creationTimestamp = creationTimes.randomElement(using: &random)!
        pod.netnsAddresses = Bool.random(using: &random) ? netnsAddresses(of: pod, &random) : []
        pod.addressesReported = Int.random(in: 0..<4, using: &random) != 0
    }

    func podChange(_ cluster: ClusterSnapshot, _ random: inout SeededRandom) -> ClusterChange {
        let existing = cluster.pods.keys.sorted()
        if !existing.isEmpty, Int.random(in: 0..<6, using: &random) == 0 {
            return .pod(existing.randomElement(using: &random)!, nil)
        }
        if !existing.isEmpty, Bool.random(using: &random), var pod = cluster.pods[existing.randomElement(using: &random)!] {
            switch Int.random(in: 0..<13, using: &random) {
            case 8: pod.phase = Self.phases.randomElement(using: &random)!
            case 9: pod.isTerminating.toggle()
            case 10: pod.creationTimestamp = Self.creationTimes.randomElement(using: &random)!
            case 11: pod.netnsAddresses = Self.netnsAddresses(of: pod, &random)
            case 12: pod.addressesReported.toggle()
            case 0: pod.labels["app"] = ["web", "db", "job"].randomElement(using: &random)!
            case 1: pod.labels["tier"] = ["1", "2", nil].randomElement(using: &random)!
            case 2: pod.serviceAccount = ["default", "sa1"].randomElement(using: &random)!
            case 3: pod.defaultInboundPolicy = Self.annotations.randomElement(using: &random)!
            case 4: pod.ports = Self.ports(&random)
            case 5: pod.addresses = Self.podAddresses(&random)
            case 6: pod.nodeName = ["a", "b", nil].randomElement(using: &random)!
            default: pod.hostNetwork.toggle()
            }
            return .pod(pod.ref, pod)
        }
        let name = Self.podNames.randomElement(using: &random)!
        let namespace = Self.namespaces.randomElement(using: &random)!
        var labels = ["app": ["web", "db", "job"].randomElement(using: &random)!]
        if Bool.random(using: &random) { labels["tier"] = ["1", "2"].randomElement(using: &random)! }
        var pod = Pod(namespace: namespace, name: name, uid: "uid-\(name)", labels: labels,
                      defaultInboundPolicy: Int.random(in: 0..<4, using: &random) == 0 ? Self.annotations.randomElement(using: &random)! : nil,
                      serviceAccount: Bool.random(using: &random) ? "default" : "sa1", ports: Self.ports(&random),
                      hostNetwork: Int.random(in: 0..<8, using: &random) == 0,
                      nodeName: ["a", "a", "b", nil].randomElement(using: &random)!, addresses: Self.podAddresses(&random))
        if Int.random(in: 0..<4, using: &random) != 0 { Self.lifecycle(&pod, &random) }
        return .pod(pod.ref, pod)
    }

    static func ports(_ random: inout SeededRandom) -> [ContainerPort] {
        let choices = [ContainerPort(name: "http", port: 80), ContainerPort(name: "http", port: 8080), ContainerPort(port: 9000),
                       ContainerPort(name: "dns", port: 53, transport: .udp), ContainerPort(name: "metrics", port: 9090),
                       ContainerPort(name: "http", port: 80, transport: .udp)]
        return choices.filter { _ in Int.random(in: 0..<3, using: &random) == 0 }
    }

    static func podAddresses(_ random: inout SeededRandom) -> [IPAddress] {
        var result = (0..<Int.random(in: 0...2, using: &random)).map { _ in addresses.randomElement(using: &random)! }
        // One address listed twice in a pod is no conflict.
        if let first = result.first, Int.random(in: 0..<8, using: &random) == 0 { result.append(first) }
        return result
    }

    // MARK: - Policies: target, ports, sources (every field), invalid ones

    func policyChange(_ cluster: ClusterSnapshot, _ random: inout SeededRandom) -> ClusterChange {
        let existing = cluster.policies.keys.sorted()
        if !existing.isEmpty, Int.random(in: 0..<5, using: &random) == 0 {
            return .policy(existing.randomElement(using: &random)!, nil)
        }
        if !existing.isEmpty, Bool.random(using: &random), var policy = cluster.policies[existing.randomElement(using: &random)!] {
            switch Int.random(in: 0..<4, using: &random) {
            case 0: policy.target = Self.selector(&random)
            case 1: policy.ports = Self.policyPorts(&random)
            case 2 where !policy.sources.isEmpty:
                policy.sources[Int.random(in: 0..<policy.sources.count, using: &random)] = Self.source(&random)
            default: policy.sources = (0..<Int.random(in: 0...3, using: &random)).map { _ in Self.source(&random) }
            }
            return .policy(policy.ref, policy)
        }
        let policy = Policy(namespace: Self.namespaces.randomElement(using: &random)!, name: Self.policyNames.randomElement(using: &random)!,
                            target: Self.selector(&random), ports: Self.policyPorts(&random),
                            sources: (0..<Int.random(in: 0...3, using: &random)).map { _ in Self.source(&random) })
        return .policy(policy.ref, policy)
    }

    func invalidPolicyChange(_ cluster: ClusterSnapshot, _ random: inout SeededRandom) -> ClusterChange {
        let ref = PolicyRef(namespace: Self.namespaces.randomElement(using: &random)!, name: "bad\(Int.random(in: 0..<3, using: &random))")
        if cluster.invalidPolicies[ref] != nil, Bool.random(using: &random) { return .invalidPolicy(ref, nil) }
        return .invalidPolicy(ref, Diagnostic(object: "\(ref)", field: "spec.ports[0].protocol", message: "\"SCTP\" is not TCP or UDP"))
    }

    static func selector(_ random: inout SeededRandom) -> LabelSelector {
        switch Int.random(in: 0..<6, using: &random) {
        case 0: return .everything
        case 1: return LabelSelector(matchLabels: ["app": ["web", "db", "job"].randomElement(using: &random)!])
        case 2: return LabelSelector(matchExpressions: [.init(key: "tier", operator: .exists)])
        case 3: return LabelSelector(matchExpressions: [.init(key: "app", operator: .notIn, values: ["db"])])
        case 4: return LabelSelector(matchExpressions: [.init(key: "tier", operator: .doesNotExist)])
        default: return LabelSelector(matchLabels: ["tier": "1"], matchExpressions: [.init(key: "app", operator: .in, values: ["web", "job"])])
        }
    }

    static func policyPorts(_ random: inout SeededRandom) -> [PolicyPort] {
        let choices: [PolicyPort] = [
            PolicyPort(port: .number(80, endPort: nil)), PolicyPort(port: .number(53, endPort: nil), transport: .udp),
            PolicyPort(port: .number(8000, endPort: 8100)), PolicyPort(port: .named("http")), PolicyPort(port: .named("metrics")),
            PolicyPort(port: .named("dns"), transport: .udp), PolicyPort(port: .named("http"), transport: .udp),
            PolicyPort(port: .number(1, endPort: 65535), transport: .udp), PolicyPort(port: .number(8080, endPort: 8081)),
        ]
        return choices.filter { _ in Int.random(in: 0..<4, using: &random) == 0 }
    }

    static func source(_ random: inout SeededRandom) -> PolicySource {
        var source = PolicySource()
        repeat {
            if Bool.random(using: &random) { source.podSelector = selector(&random) }
            if Int.random(in: 0..<3, using: &random) == 0 {
                source.namespaceSelector = [LabelSelector.everything, LabelSelector(matchLabels: ["team": "y"]),
                                            LabelSelector(matchLabels: ["kubernetes.io/metadata.name": "ns2"]),
                                            LabelSelector(matchExpressions: [.init(key: "env", operator: .exists)])].randomElement(using: &random)!
            }
            if Int.random(in: 0..<3, using: &random) == 0 {
                source.serviceAccounts = [ServiceAccountRef(name: Bool.random(using: &random) ? "sa1" : "default",
                                                            namespace: namespaces.randomElement(using: &random)!)]
            }
            if Int.random(in: 0..<3, using: &random) == 0 {
                source.networks = (0..<Int.random(in: 1...2, using: &random)).map { _ in
                    let block = cidrs.randomElement(using: &random)!
                    return NetworkBlock(cidr: block, except: cidrs.filter { block.contains($0) && $0 != block && Bool.random(using: &random) })
                }
            }
        } while source == PolicySource()
        return source
    }

    // MARK: - Local cgroups

    func cgroupChange(_ cluster: ClusterSnapshot, _ cgroups: [PodRef: CgroupID], _ random: inout SeededRandom) -> ClusterChange {
        if !cgroups.isEmpty, Int.random(in: 0..<3, using: &random) == 0 {
            return .localCgroup(cgroups.keys.sorted().randomElement(using: &random)!, nil)
        }
        // Mostly pods that exist; sometimes a cgroup whose pod is not (yet) known.
        let ref = cluster.pods.keys.sorted().randomElement(using: &random)
            ?? PodRef(namespace: Self.namespaces.randomElement(using: &random)!, name: Self.podNames.randomElement(using: &random)!)
        // One cgroup per pod name and namespace: two pods never share one.
        let number = (Self.namespaces.firstIndex(of: ref.namespace) ?? 0) * 100 + (Self.podNames.firstIndex(of: ref.name) ?? 0)
        return .localCgroup(ref, CgroupID(UInt64(5000 + number + (Bool.random(using: &random) ? 1000 : 0))))
    }
}
