import PodgateModel

/// The size of a synthetic cluster.
public struct ClusterShape: Hashable, Sendable, CustomStringConvertible {
    public var pods: Int
    public var policies: Int
    public var namespaces: Int
    /// Pods per Deployment: they share labels, so they share one identity.
    public var replicas: Int
    /// Pods on the benchmarked node (they get endpoints; the rest only addresses).
    public var localPods: Int

    public init(pods: Int, policies: Int, namespaces: Int, replicas: Int = 10, localPods: Int = 100) {
        self.pods = pods
        self.policies = policies
        self.namespaces = max(1, namespaces)
        self.replicas = max(1, replicas)
        self.localPods = localPods
    }

    public var description: String {
        "pods=\(ReportFormat.count(pods)) policies=\(ReportFormat.count(policies)) ns=\(ReportFormat.count(namespaces))"
    }

    /// The three clusters of the issue: 1k, 10k and 150k pods.
    public static let standard: [ClusterShape] = [
        ClusterShape(pods: 1_000, policies: 100, namespaces: 10),
        ClusterShape(pods: 10_000, policies: 1_000, namespaces: 100),
        ClusterShape(pods: 150_000, policies: 5_000, namespaces: 1_000),
    ]
}

/// A deterministic synthetic cluster, shaped like real ones: namespaces with
/// team/env labels; Deployments of `replicas` pods sharing `app` labels (one
/// identity each); policies in every namespace letting one app reach another
/// on 8080, every fifth also admitting a same-named app from the namespaces of
/// one team (a namespaceSelector). Pure: the same shape gives the same cluster.
public enum SyntheticCluster {
    public static let localNode = "bench-node"

    public static func namespaceName(_ i: Int) -> String { "ns-\(i)" }

    public static func deployments(perNamespace shape: ClusterShape) -> Int {
        let podsPerNamespace = (shape.pods + shape.namespaces - 1) / shape.namespaces
        return max(1, (podsPerNamespace + shape.replicas - 1) / shape.replicas)
    }

    public static func generate(_ shape: ClusterShape) -> ClusterSnapshot {
        var snapshot = ClusterSnapshot()
        for i in 0..<shape.namespaces {
            let name = namespaceName(i)
            snapshot.namespaces[name] = Namespace(name: name, labels: ["team": "team-\(i % 10)", "env": i % 2 == 0 ? "prod" : "dev"])
        }
        for index in 0..<shape.pods {
            let pod = self.pod(index, shape: shape)
            snapshot.pods[pod.ref] = pod
        }
        let deployments = deployments(perNamespace: shape)
        for k in 0..<shape.policies {
            let policy = self.policy(k, shape: shape, deployments: deployments)
            snapshot.policies[policy.ref] = policy
        }
        return snapshot
    }

    /// Pod `index`: namespaces are filled round-robin, so each holds pods / namespaces.
    public static func pod(_ index: Int, shape: ClusterShape) -> Pod {
        let namespace = index % shape.namespaces
        let ordinal = index / shape.namespaces
        let deployment = ordinal / shape.replicas
        // 10.0.0.0/8, one /32 per pod; skip .0 so no address ends in zero.
        let address = IPAddress(ipv4: 0x0A00_0000 | UInt32(index + 1))
        return Pod(namespace: namespaceName(namespace), name: "app-\(deployment)-\(ordinal)", uid: "uid-\(index)",
                   labels: ["app": "app-\(deployment)", "pod-template-hash": "h\(deployment)"],
                   serviceAccount: "sa-\(deployment % 3)",
                   ports: [ContainerPort(name: "http", port: 8080), ContainerPort(name: "metrics", port: 9090)],
                   nodeName: index < shape.localPods ? localNode : "node-\(index / 110)",
                   addresses: [address])
    }

    public static func policy(_ k: Int, shape: ClusterShape, deployments: Int) -> Policy {
        let namespace = k % shape.namespaces
        let round = k / shape.namespaces
        let target = round % deployments
        let source = (round + 1) % deployments
        var sources = [PolicySource(podSelector: LabelSelector(matchLabels: ["app": "app-\(source)"]))]
        if k % 5 == 0 {
            sources.append(PolicySource(podSelector: LabelSelector(matchLabels: ["app": "app-\(source)"]),
                                        namespaceSelector: LabelSelector(matchLabels: ["team": "team-\(namespace % 10)"])))
        }
        return Policy(namespace: namespaceName(namespace), name: "allow-\(k)",
                      target: LabelSelector(matchLabels: ["app": "app-\(target)"]),
                      ports: [PolicyPort(port: .number(8080, endPort: nil))], sources: sources)
    }

    /// The local pods and made-up cgroup IDs for them.
    public static func localCgroups(_ snapshot: ClusterSnapshot) -> [PodRef: CgroupID] {
        var result: [PodRef: CgroupID] = [:]
        for pod in snapshot.pods.values where pod.nodeName == localNode {
            result[pod.ref] = CgroupID(1_000_000 + (UInt64(pod.uid.dropFirst(4)) ?? 0))
        }
        return result
    }

    // MARK: - one change each

    /// The first pod of namespace 1 (or 0) moves to another Deployment's labels.
    public static func relabelingOnePod(_ snapshot: ClusterSnapshot, shape: ClusterShape) -> ClusterSnapshot {
        var changed = snapshot
        let original = pod(min(1, shape.pods - 1), shape: shape)
        guard var pod = changed.pods[original.ref] else { return changed }
        pod.labels["app"] = "app-\(deployments(perNamespace: shape) - 1)"
        pod.labels["pod-template-hash"] = "relabeled"
        changed.pods[pod.ref] = pod
        return changed
    }

    /// Policy 0 also opens 9090.
    public static func changingOnePolicy(_ snapshot: ClusterSnapshot, shape: ClusterShape) -> ClusterSnapshot {
        var changed = snapshot
        var policy = self.policy(0, shape: shape, deployments: deployments(perNamespace: shape))
        policy.ports.append(PolicyPort(port: .number(9090, endPort: nil)))
        changed.policies[policy.ref] = policy
        return changed
    }

    /// Namespace 0 moves to another team (namespaceSelectors of that team's policies change).
    public static func relabelingOneNamespace(_ snapshot: ClusterSnapshot, shape: ClusterShape) -> ClusterSnapshot {
        var changed = snapshot
        let name = namespaceName(0)
        changed.namespaces[name]?.labels["team"] = "team-\(1 % 10)"
        return changed
    }
}
