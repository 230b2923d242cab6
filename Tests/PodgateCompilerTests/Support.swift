import PodgateTestSupport
import PodgateModel
@testable import PodgateCompiler

/// Seeded random tests replay by seed (PodgateTestSupport).
typealias SeededRandom = SplitMix64

func ip(_ text: String) -> IPAddress {
    guard let address = IPAddress(text) else { fatalError("bad test address \(text)") }
    return address
}

func cidr(_ text: String) -> CIDR {
    guard let prefix = CIDR(text) else { fatalError("bad test CIDR \(text)") }
    return prefix
}

/// Every pod of the snapshot gets a cgroup: 1000 + its position in PodRef order.
func cgroups(_ snapshot: ClusterSnapshot) -> [PodRef: CgroupID] {
    Dictionary(uniqueKeysWithValues: snapshot.pods.keys.sorted().enumerated().map { ($1, CgroupID(UInt64(1000 + $0))) })
}

/// The seed walkthrough, built by hand.
enum Walkthrough {
    static let frontend = Pod(namespace: "demo", name: "frontend", labels: ["app": "frontend"],
                              ports: [ContainerPort(port: 80)], addresses: [ip("10.244.0.10")])
    static let backend = Pod(namespace: "demo", name: "backend", labels: ["app": "backend"],
                             ports: [ContainerPort(port: 8080), ContainerPort(port: 9000)], addresses: [ip("10.244.0.11")])
    static let policy = Policy(namespace: "demo", name: "frontend-can-talk-to-backend",
                               target: LabelSelector(matchLabels: ["app": "backend"]),
                               ports: [PolicyPort(port: .number(8080, endPort: nil))],
                               sources: [PolicySource(podSelector: LabelSelector(matchLabels: ["app": "frontend"]))])
    static var snapshot: ClusterSnapshot {
        ClusterSnapshot(namespaces: ["demo": Namespace(name: "demo", defaultInboundPolicy: "deny")],
                        pods: [frontend.ref: frontend, backend.ref: backend],
                        policies: [policy.ref: policy])
    }
    static let settings = AgentSettings(clusterNetworks: [cidr("10.244.0.0/16")], nodeAddresses: [ip("10.0.0.1")])
}
