import Testing
import PodgateModel
@testable import PodgateCompiler

/// Seeded random small clusters: for every (source, target, port, protocol,
/// family), the maps of the target's node (server side) and of the source's
/// node (client side) decide exactly what the reference evaluator decides.
@Suite struct RandomClusterTests {
    static let nodes = ["a": (ip("10.0.0.1"), ip("fd00:ffff::1")), "b": (ip("10.0.0.2"), ip("fd00:ffff::2"))]
    static let externals = [ip("10.244.0.200"), ip("192.0.2.7"), ip("203.0.113.9"), ip("2001:db8::1"), ip("fd00:10::99"),
                            ip("10.0.0.1"), ip("10.0.0.2"), ip("fd00:ffff::1")]
    static let ports = [53, 80, 443, 8080, 9000]

    @Test func mapsAgreeWithTheReferenceEvaluator() {
        var compared = 0
        for seed in UInt64(1)...120 {
            var random = SeededRandom(seed: seed)
            let cluster = RandomCluster(using: &random)
            compared += Self.compare(cluster, seed: seed)
        }
        #expect(compared > 10_000)
    }

    static func settings(_ cluster: RandomCluster, node: String) -> AgentSettings {
        var settings = cluster.settings
        settings.nodeName = node
        if let (v4, v6) = nodes[node] { settings.nodeAddresses = [v4, v6] }
        return settings
    }

    /// Returns how many decisions were compared; records an issue per disagreement (a few at most).
    static func compare(_ cluster: RandomCluster, seed: UInt64) -> Int {
        let snapshot = cluster.snapshot
        let local = cgroups(snapshot)
        var states: [String: DesiredState] = [:]
        for node in nodes.keys {
            let nodePods = local.filter { snapshot.pods[$0.key]?.nodeName == node }
            states[node] = PolicyCompiler.compile(snapshot, settings: settings(cluster, node: node), localCgroups: nodePods).state
        }
        var compared = 0
        var failures = 0
        let sources: [TrafficSource] = snapshot.pods.keys.sorted().map(TrafficSource.pod) + externals.map(TrafficSource.address)
        for target in snapshot.pods.values.sorted(by: { $0.ref < $1.ref }) where !target.hostNetwork {
            guard let targetNode = target.nodeName, let state = states[targetNode], let targetCgroup = local[target.ref] else { continue }
            let settings = settings(cluster, node: targetNode)
            for source in sources {
                for family in [IPFamily.ipv4, .ipv6] {
                    let sourceAddress: IPAddress?
                    switch source {
                    case let .pod(ref): sourceAddress = snapshot.pods[ref]?.addresses.first { $0.isIPv4 == (family == .ipv4) }
                    case let .address(address): sourceAddress = address.isIPv4 == (family == .ipv4) ? address : nil
                    case .node: sourceAddress = nil
                    }
                    guard let sourceAddress else { continue }
                    for port in ports {
                        for transport in TransportProtocol.allCases {
                            guard let verdict = Decision.evaluate(snapshot, settings: settings, from: source, to: target.ref,
                                                                  port: port, transport: transport, family: family) else { continue }
                            let server = MapLookup.server(state, target: targetCgroup, source: sourceAddress,
                                                          port: UInt16(port), transport: transport)
                            compared += 1
                            let label = "seed \(seed): \(source) -> \(target.ref):\(port)/\(transport.rawValue)"
                            if server.allowed != verdict.allowed || server.reason != verdict.reason || server.audited != verdict.audited {
                                failures += 1
                                if failures <= 3 { Issue.record("server \(label): maps \(server), contract \(verdict)\n\(cluster)") }
                            }
                            guard case let .pod(ref) = source, let sourcePod = snapshot.pods[ref], let sourceNode = sourcePod.nodeName,
                                  let cgroup = local[ref], let clientState = states[sourceNode],
                                  let destination = target.addresses.first(where: { $0.isIPv4 == (family == .ipv4) }),
                                  let client = MapLookup.client(clientState, source: cgroup, destination: destination,
                                                                port: UInt16(port), transport: transport) else { continue }
                            compared += 1
                            if client.allowed != verdict.allowed || client.reason != verdict.reason {
                                failures += 1
                                if failures <= 3 { Issue.record("client \(label): maps \(client), contract \(verdict)\n\(cluster)") }
                            }
                        }
                    }
                }
            }
        }
        return compared
    }
}

/// A small random cluster: two namespaces, a handful of pods on nodes a and
/// b (some dual-stack, some host-network), a few policies using every field.
struct RandomCluster: CustomStringConvertible {
    var snapshot = ClusterSnapshot()
    var settings: AgentSettings

    init(using random: inout SeededRandom) {
        let defaults = DefaultInboundPolicy.allCases
        settings = AgentSettings(defaultInboundPolicy: defaults.randomElement(using: &random) ?? .deny,
                                 clusterNetworks: [cidr("10.244.0.0/16"), cidr("fd00:10::/64")].filter { _ in Bool.random(using: &random) },
                                 allowFromHost: Bool.random(using: &random))
        let annotations: [String?] = [nil, nil, nil, "deny", "audit", "all-authenticated", "cluster-unauthenticated",
                                      "cluster-authenticated", "not-a-policy"]
        for (name, team) in [("ns1", "x"), ("ns2", Bool.random(using: &random) ? "x" : "y")] {
            snapshot.namespaces[name] = Namespace(name: name, labels: ["team": team],
                                                  defaultInboundPolicy: annotations.randomElement(using: &random) ?? nil)
        }
        let podCount = Int.random(in: 3...7, using: &random)
        for index in 0..<podCount {
            var labels: [String: String] = ["app": ["web", "db", "job"].randomElement(using: &random) ?? "web"]
            if Bool.random(using: &random) { labels["tier"] = ["1", "2"].randomElement(using: &random) }
            let node = Bool.random(using: &random) ? "a" : "b"
            let hostNetwork = Int.random(in: 0..<6, using: &random) == 0
            var addresses: [IPAddress]
            if hostNetwork, let (v4, v6) = RandomClusterTests.nodes[node] {
                addresses = [v4, v6]
            } else {
                // Some pods sit outside the cluster networks, some are dual-stack.
                let v4Net = Int.random(in: 0..<5, using: &random) == 0 ? "10.245.0" : "10.244.0"
                addresses = [ip("\(v4Net).\(10 + index)")]
                if Bool.random(using: &random) { addresses.append(ip("fd00:10::\(10 + index)")) }
            }
            let ports = [ContainerPort(name: "http", port: [80, 8080].randomElement(using: &random) ?? 80),
                         ContainerPort(name: Bool.random(using: &random) ? "dns" : nil, port: 53, transport: .udp),
                         ContainerPort(port: 9000)]
            let pod = Pod(namespace: Bool.random(using: &random) ? "ns1" : "ns2", name: "p\(index)", labels: labels,
                          defaultInboundPolicy: Int.random(in: 0..<4, using: &random) == 0 ? annotations.randomElement(using: &random) ?? nil : nil,
                          serviceAccount: Bool.random(using: &random) ? "default" : "sa1",
                          ports: ports.filter { _ in Int.random(in: 0..<3, using: &random) > 0 },
                          hostNetwork: hostNetwork, nodeName: node, addresses: addresses)
            snapshot.pods[pod.ref] = pod
        }
        for index in 0..<Int.random(in: 0...4, using: &random) {
            let policy = Policy(namespace: Bool.random(using: &random) ? "ns1" : "ns2", name: "pol\(index)",
                                target: Self.selector(&random), ports: Self.ports(&random),
                                sources: (0..<Int.random(in: 0...2, using: &random)).map { _ in Self.source(&random) })
            snapshot.policies[policy.ref] = policy
        }
    }

    static func selector(_ random: inout SeededRandom) -> LabelSelector {
        switch Int.random(in: 0..<5, using: &random) {
        case 0: return .everything
        case 1: return LabelSelector(matchLabels: ["app": ["web", "db", "job"].randomElement(using: &random) ?? "web"])
        case 2: return LabelSelector(matchExpressions: [.init(key: "tier", operator: .exists)])
        case 3: return LabelSelector(matchExpressions: [.init(key: "app", operator: .notIn, values: ["db"])])
        default: return LabelSelector(matchLabels: ["tier": "1"], matchExpressions: [.init(key: "app", operator: .in, values: ["web", "job"])])
        }
    }

    static func ports(_ random: inout SeededRandom) -> [PolicyPort] {
        let choices: [PolicyPort] = [
            PolicyPort(port: .number(80, endPort: nil)), PolicyPort(port: .number(53, endPort: nil), transport: .udp),
            PolicyPort(port: .number(443, endPort: 9000)), PolicyPort(port: .named("http")),
            PolicyPort(port: .named("dns"), transport: .udp), PolicyPort(port: .number(1, endPort: 65535), transport: .udp),
        ]
        return choices.filter { _ in Int.random(in: 0..<4, using: &random) == 0 }
    }

    static func source(_ random: inout SeededRandom) -> PolicySource {
        var source = PolicySource()
        repeat {
            if Bool.random(using: &random) { source.podSelector = selector(&random) }
            if Int.random(in: 0..<3, using: &random) == 0 {
                source.namespaceSelector = Bool.random(using: &random) ? .everything : LabelSelector(matchLabels: ["team": "y"])
            }
            if Int.random(in: 0..<3, using: &random) == 0 {
                source.serviceAccounts = [ServiceAccountRef(name: "sa1", namespace: Bool.random(using: &random) ? "ns1" : "ns2")]
            }
            if Int.random(in: 0..<3, using: &random) == 0 {
                let blocks = [NetworkBlock(cidr: cidr("10.244.0.0/24"), except: [cidr("10.244.0.12/31")]),
                              NetworkBlock(cidr: cidr("0.0.0.0/0"), except: [cidr("10.0.0.0/8")]),
                              NetworkBlock(cidr: cidr("fd00::/16")), NetworkBlock(cidr: cidr("203.0.113.0/24")),
                              NetworkBlock(cidr: cidr("10.0.0.0/8"), except: [cidr("10.244.0.0/16"), cidr("10.0.0.2/32")])]
                source.networks = blocks.filter { _ in Bool.random(using: &random) }
            }
        } while source == PolicySource()
        return source
    }

    var description: String {
        let pods = snapshot.pods.values.sorted { $0.ref < $1.ref }.map {
            "  pod \($0.ref) \($0.labels) sa=\($0.serviceAccount) node=\($0.nodeName ?? "-") host=\($0.hostNetwork) \($0.addresses) ports=\($0.ports.map { "\($0.name ?? "")\($0.port)/\($0.transport.rawValue)" }) default=\($0.defaultInboundPolicy ?? "-")"
        }
        let namespaces = snapshot.namespaces.values.sorted { $0.name < $1.name }.map { "  ns \($0.name) \($0.labels) default=\($0.defaultInboundPolicy ?? "-")" }
        let policies = snapshot.policies.values.sorted { $0.ref < $1.ref }.map { "  policy \($0.ref) \($0)" }
        return (["settings \(settings)"] + namespaces + pods + policies).joined(separator: "\n")
    }
}
