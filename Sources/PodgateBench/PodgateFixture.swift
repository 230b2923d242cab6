import PodgateLab
import PodgateCompiler
import PodgateModel

/// podgate's maps for the two bench pods, compiled by the real compiler from
/// a real policy ("client may reach server on 8080; the server denies by
/// default"), then padded with synthetic entries to the sizes under test:
/// more allow entries for the server's target class (other sources on 8080)
/// and more pod addresses in the address map.
enum PodgateFixture {
    static let namespace = "bench"
    static let firstSyntheticIdentity: UInt32 = 0x0010_0000

    static func snapshot() -> ClusterSnapshot {
        let client = Pod(namespace: namespace, name: "client", labels: ["app": "client"],
                         addresses: [IPAddress(BenchTopology.clientAddress)!])
        let server = Pod(namespace: namespace, name: "server", labels: ["app": "server"], defaultInboundPolicy: "deny",
                         ports: [ContainerPort(name: "http", port: BenchTopology.port)],
                         addresses: [IPAddress(BenchTopology.serverAddress)!])
        let policy = Policy(namespace: namespace, name: "client-to-server", target: LabelSelector(matchLabels: ["app": "server"]),
                            ports: [PolicyPort(port: .number(BenchTopology.port, endPort: nil))],
                            sources: [PolicySource(podSelector: LabelSelector(matchLabels: ["app": "client"]))])
        return ClusterSnapshot(namespaces: [namespace: Namespace(name: namespace)],
                               pods: [client.ref: client, server.ref: server], policies: [policy.ref: policy])
    }

    static let settings = AgentSettings(defaultInboundPolicy: .allUnauthenticated, nodeName: "bench-node")

    static func operations(topology: BenchTopology, policyEntries: Int, addresses: Int) throws -> [MapOperation] {
        let cgroups = [PodRef(namespace: namespace, name: "client"): CgroupID(try CgroupTree.id(topology.clientCgroup)),
                       PodRef(namespace: namespace, name: "server"): CgroupID(try CgroupTree.id(topology.serverCgroup))]
        let compilation = PolicyCompiler.compile(snapshot(), settings: settings, localCgroups: cgroups)
        var state = compilation.state
        guard let serverCgroup = cgroups[PodRef(namespace: namespace, name: "server")],
              let serverClass = state.endpoints[serverCgroup]?.targetClass else {
            throw LabError("the compiler gave the server pod no endpoint")
        }
        let allowEntries = state.policy.keys.filter { $0.targetClass == serverClass && $0.source != .none }.count
        for i in 0..<max(0, policyEntries - allowEntries) {
            let key = PolicyKey(targetClass: serverClass, source: IdentityID(firstSyntheticIdentity + UInt32(i)),
                                transport: .tcp, port: UInt16(BenchTopology.port), portPrefixBits: 16)
            state.policy[key] = PolicyValue(policyIndex: 1)
        }
        for i in 0..<max(0, addresses - state.addresses.count) {
            let address = IPAddress(ipv4: 0x0AC8_0000 + UInt32(i) + 1)  // 10.200.0.1 upwards
            state.addresses[address] = AddressValue(kind: .pod, identity: IdentityID(firstSyntheticIdentity + UInt32(i % max(policyEntries, 1))),
                                                    targetClass: serverClass, podID: 10_000 + UInt32(i), defaultPolicy: .deny)
        }
        return StateDiff.operations(from: nil, to: state)
    }
}
