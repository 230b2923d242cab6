import Testing
import PodgateModel
@testable import PodgateCompiler

/// Whole-namespace sources as namespace classes (issue 15, item 5): a policy
/// admitting "every pod of these namespaces" costs one key per namespace (or
/// one `allPods` key), and the class keys admit exactly the pods the
/// identity keys did: the attacks below try to get more out of them.
@Suite struct SourceClassTests {
    static let settings = AgentSettings(defaultInboundPolicy: .deny, nodeName: "a")

    /// ns "t" holds the target; "a1", "a2" are team a, "b" is team b.
    static func cluster(_ sources: [PolicySource]) -> ClusterSnapshot {
        var snapshot = ClusterSnapshot()
        for (name, team) in [("t", "a"), ("a1", "a"), ("a2", "a"), ("b", "b")] {
            snapshot.namespaces[name] = Namespace(name: name, labels: ["team": team])
        }
        let pods = [
            Pod(namespace: "t", name: "server", labels: ["app": "server"], nodeName: "a", addresses: [ip("10.0.1.1")]),
            Pod(namespace: "t", name: "peer", labels: ["app": "peer"], nodeName: "b", addresses: [ip("10.0.1.2")]),
            Pod(namespace: "a1", name: "x", labels: ["app": "x"], nodeName: "b", addresses: [ip("10.0.2.1")]),
            Pod(namespace: "a1", name: "y", labels: ["app": "y"], serviceAccount: "sa1", nodeName: "a", addresses: [ip("10.0.2.2")]),
            Pod(namespace: "a2", name: "z", labels: ["app": "z"], nodeName: "b", addresses: [ip("10.0.3.1")]),
            Pod(namespace: "b", name: "intruder", labels: ["app": "x"], nodeName: "a", addresses: [ip("10.0.4.1")]),
            Pod(namespace: "b", name: "web", labels: ["app": "server"], hostNetwork: true, nodeName: "b", addresses: [ip("10.9.9.9")]),
        ]
        for pod in pods { snapshot.pods[pod.ref] = pod }
        let policy = Policy(namespace: "t", name: "team", target: LabelSelector(matchLabels: ["app": "server"]),
                            ports: [PolicyPort(port: .number(8080, endPort: nil))], sources: sources)
        snapshot.policies[policy.ref] = policy
        return snapshot
    }

    static let server = PodRef(namespace: "t", name: "server")
    static let teamA = PolicySource(namespaceSelector: LabelSelector(matchLabels: ["team": "a"]))

    /// The server's maps decide (server side, from each address) what the contract decides.
    static func serverVerdicts(_ snapshot: ClusterSnapshot, _ state: DesiredState) -> [String: Bool] {
        let cgroup = cgroups(snapshot)[server]!
        var result: [String: Bool] = [:]
        let sources = snapshot.pods.values.map { ($0.ref.description, $0.addresses[0], TrafficSource.pod($0.ref)) }
            + [("unknown", ip("10.0.9.9"), TrafficSource.address(ip("10.0.9.9")))]
        for (name, address, source) in sources where name != server.description {
            let maps = MapLookup.server(state, target: cgroup, source: address, port: 8080, transport: .tcp)
            let contract = Decision.evaluate(snapshot, settings: settings, from: source, to: server, port: 8080, transport: .tcp)!
            #expect(maps.allowed == contract.allowed && maps.reason == contract.reason, "\(name): maps \(maps), contract \(contract)")
            result[name] = maps.allowed
        }
        return result
    }

    static func compile(_ snapshot: ClusterSnapshot) -> DesiredState {
        PolicyCompiler.compile(snapshot, settings: settings, localCgroups: cgroups(snapshot)).state
    }

    @Test func aNamespaceClassAdmitsItsNamespacesOnly() {
        let snapshot = Self.cluster([Self.teamA])
        let state = Self.compile(snapshot)
        // One key per namespace of team a (t, a1, a2) and the covering one: no identity keys.
        let keys = state.policy.keys.filter { $0.source != .none }
        #expect(keys.count == 3 && keys.allSatisfy { $0.source.isNamespaceClass }, "\(keys.sorted())")
        let verdicts = Self.serverVerdicts(snapshot, state)
        #expect(verdicts == ["t/peer": true, "a1/x": true, "a1/y": true, "a2/z": true,
                             "b/intruder": false, "b/web": false, "unknown": false])
    }

    /// The client side too: the intruder (local, namespace b, labels like an
    /// admitted pod's) is refused at connect; a1/y (local) is admitted.
    @Test func theClientSideReadsTheCallersOwnClass() {
        let snapshot = Self.cluster([Self.teamA])
        let state = Self.compile(snapshot)
        let local = cgroups(snapshot)
        let intruder = MapLookup.client(state, source: local[PodRef(namespace: "b", name: "intruder")]!,
                                        destination: ip("10.0.1.1"), port: 8080, transport: .tcp)
        #expect(intruder?.allowed == false && intruder?.reason == .notAuthorized)
        let admitted = MapLookup.client(state, source: local[PodRef(namespace: "a1", name: "y")]!,
                                        destination: ip("10.0.1.1"), port: 8080, transport: .tcp)
        #expect(admitted?.allowed == true)
        // An unregistered cgroup (unknown pods distrusted) carries no class.
        let unknown = MapLookup.client(state, source: CgroupID(1), destination: ip("10.0.1.1"), port: 8080, transport: .tcp)
        #expect(unknown?.allowed == false && unknown?.reason == .notAuthorized)
    }

    @Test func everyPodIsOneKeyAndNoNonPod() {
        for source in [PolicySource(namespaceSelector: .everything), PolicySource(podSelector: .everything, namespaceSelector: .everything)] {
            let snapshot = Self.cluster([source])
            let state = Self.compile(snapshot)
            let keys = state.policy.keys.filter { $0.source != .none }
            #expect(keys.map(\.source) == [.allPods])
            let verdicts = Self.serverVerdicts(snapshot, state)
            // Every pod; not the world, not a host-network pod (the node's own address).
            #expect(verdicts == ["t/peer": true, "a1/x": true, "a1/y": true, "a2/z": true,
                                 "b/intruder": true, "b/web": false, "unknown": false])
        }
    }

    /// An empty podSelector alone: the policy's own namespace, nothing else.
    @Test func anEmptyPodSelectorIsThePolicysNamespace() {
        let snapshot = Self.cluster([PolicySource(podSelector: .everything)])
        let state = Self.compile(snapshot)
        #expect(state.policy.keys.filter { $0.source != .none }.count == 1)
        #expect(Self.serverVerdicts(snapshot, state) == ["t/peer": true, "a1/x": false, "a1/y": false, "a2/z": false,
                                                         "b/intruder": false, "b/web": false, "unknown": false])
    }

    /// Narrower entries stay per identity: a pod selector or an account is not a class.
    @Test func narrowerEntriesAreNotClasses() {
        let narrower = [PolicySource(podSelector: LabelSelector(matchLabels: ["app": "x"]), namespaceSelector: Self.teamA.namespaceSelector),
                        PolicySource(namespaceSelector: .everything, serviceAccounts: [ServiceAccountRef(name: "sa1", namespace: "a1")])]
        let snapshot = Self.cluster(narrower)
        let state = Self.compile(snapshot)
        #expect(state.policy.keys.allSatisfy { $0.source == .none || $0.source.isPod })
        #expect(Self.serverVerdicts(snapshot, state) == ["t/peer": false, "a1/x": true, "a1/y": true, "a2/z": false,
                                                         "b/intruder": false, "b/web": false, "unknown": false])
    }

    /// The namespace labels change under the policy: b joins team a (its pods
    /// get in), a2 leaves (its pods lose access), incrementally and in full.
    @Test func aNamespaceChangingTeamsMovesItsPods() {
        let snapshot = Self.cluster([Self.teamA])
        var compiler = IncrementalCompiler(snapshot: snapshot, settings: Self.settings, localCgroups: cgroups(snapshot))
        compiler.apply([.namespace("b", Namespace(name: "b", labels: ["team": "a"])),
                        .namespace("a2", Namespace(name: "a2", labels: ["team": "c"]))])
        let changed = compiler.snapshot
        let full = PolicyCompiler.compile(changed, settings: Self.settings, localCgroups: cgroups(changed),
                                          previous: compiler.allocation).state
        #expect(compiler.state == full)
        #expect(Self.serverVerdicts(changed, compiler.state) == ["t/peer": true, "a1/x": true, "a1/y": true, "a2/z": false,
                                                                 "b/intruder": true, "b/web": false, "unknown": false])
        // The last pod of a2 leaves: its class and every key naming it go.
        let a2Class = try! #require(compiler.allocation.namespaceClasses["a2"])
        compiler.apply([.namespace("a2", Namespace(name: "a2", labels: ["team": "a"]))])
        #expect(compiler.state.policy.keys.contains { $0.source == IdentityID(a2Class) })
        compiler.apply([.pod(PodRef(namespace: "a2", name: "z"), nil)])
        #expect(!compiler.state.policy.keys.contains { $0.source == IdentityID(a2Class) })
        #expect(compiler.allocation.namespaceClasses["a2"] == nil)
    }
}
