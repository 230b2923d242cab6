import Testing
import PodgateModel
@testable import PodgateCompiler

@Suite struct CompilerTests {
    @Test func compilesTheWalkthrough() throws {
        let snapshot = Walkthrough.snapshot
        let result = PolicyCompiler.compile(snapshot, settings: Walkthrough.settings, localCgroups: cgroups(snapshot))
        #expect(result.diagnostics.isEmpty)
        let state = result.state
        let backend = try #require(state.addresses[ip("10.244.0.11")])
        let frontend = try #require(state.addresses[ip("10.244.0.10")])
        #expect(backend.kind == .pod && backend.defaultPolicy == .deny && frontend.identity.isPod)
        let backendClass = try #require(backend.targetClass)
        // One covered entry and one allow entry for port 8080 of backend's class; nothing else.
        #expect(state.policy == [
            PolicyKey(targetClass: backendClass, source: .none, transport: .tcp, port: 8080, portPrefixBits: 16): PolicyValue(policyIndex: 1),
            PolicyKey(targetClass: backendClass, source: frontend.identity, transport: .tcp, port: 8080, portPrefixBits: 16): PolicyValue(policyIndex: 1),
        ])
        #expect(state.addresses[ip("10.0.0.1")] == AddressValue(kind: .host, identity: .host))
        #expect(state.cidrs == [cidr("10.244.0.0/16"): CIDRValue(cidrClass: IdentityID(IdentityID.firstCIDR), inCluster: true)])
        #expect(state.endpoints.count == 2)
        let endpoint = try #require(state.endpoints.values.first { $0.podID == backend.podID })
        #expect(endpoint.cidrClass4 == IdentityID(IdentityID.firstCIDR) && endpoint.inCluster4 && !endpoint.inCluster6)
        #expect(result.policies[1] == Walkthrough.policy.ref)
        #expect(result.identities[frontend.identity]?.labels == ["app": "frontend"])
    }

    @Test func emptySourcesOnlyCoverAndOmittedPortsCoverEverything() throws {
        var snapshot = Walkthrough.snapshot
        snapshot.policies = [PolicyRef(namespace: "demo", name: "closed"):
                                Policy(namespace: "demo", name: "closed", target: .everything, sources: [])]
        let state = PolicyCompiler.compile(snapshot, settings: Walkthrough.settings).state
        #expect(state.policy.count == 2)
        #expect(state.policy.keys.allSatisfy { $0.source == .none && $0.transport == nil && $0.prefixLength == 64 })
    }

    @Test func theLowestPolicyIndexNamesASharedEntry() throws {
        var snapshot = Walkthrough.snapshot
        var second = Walkthrough.policy
        second.name = "a-second-copy"
        snapshot.policies[second.ref] = second
        let result = PolicyCompiler.compile(snapshot, settings: Walkthrough.settings)
        #expect(result.allocation.policies[second.ref] == 1)   // numbered in PolicyRef order
        #expect(result.state.policy.count == 2 && result.state.policy.values.allSatisfy { $0.policyIndex == 1 })
    }

    @Test func hostNetworkPodsAreTheirNodeAndNeverMatchPodFields() throws {
        var snapshot = Walkthrough.snapshot
        let agent = Pod(namespace: "demo", name: "agent", labels: ["app": "frontend"], hostNetwork: true, addresses: [ip("10.0.0.1")])
        let remote = Pod(namespace: "demo", name: "remote", labels: ["app": "frontend"], hostNetwork: true, nodeName: "b",
                         addresses: [ip("10.0.0.2")])
        snapshot.pods[agent.ref] = agent
        snapshot.pods[remote.ref] = remote
        let result = PolicyCompiler.compile(snapshot, settings: Walkthrough.settings, localCgroups: cgroups(snapshot))
        #expect(result.diagnostics.isEmpty)
        #expect(result.state.addresses[ip("10.0.0.1")] == AddressValue(kind: .host, identity: .host))
        #expect(result.state.addresses[ip("10.0.0.2")] == AddressValue(kind: .remoteNode, identity: .remoteNode))
        #expect(result.identities.count == 2)
        #expect(result.state.policy.count == 2)
        // The local one is registered as the node, not a target; the remote one is not on this node.
        #expect(result.state.endpoints.values.filter { $0.identity == .host }.count == 1)
        #expect(result.state.endpoints.count == 3)
    }

    @Test func twoPodsClaimingOneAddressAreReportedAndResolvedByRule() throws {
        var snapshot = Walkthrough.snapshot
        let late = Pod(namespace: "demo", name: "aaa-late", labels: ["app": "late"], addresses: [ip("10.244.0.11")])
        snapshot.pods[late.ref] = late
        let result = PolicyCompiler.compile(snapshot, settings: Walkthrough.settings)
        #expect(result.diagnostics.map(\.description) == [
            "Pod demo/backend: status.podIPs address 10.244.0.11 is already held by pod demo/aaa-late; ignored for this pod"])
        #expect(result.state.addresses[ip("10.244.0.11")]?.podID == result.allocation.pods[late.ref])
    }

    /// name -> (pod annotation, namespace annotation, agent flag, expected, diagnostics)
    static let precedence: [String: (String?, String?, DefaultInboundPolicy, DefaultInboundPolicy, Int)] = [
        "pod wins": ("audit", "deny", .allAuthenticated, .audit, 0),
        "namespace next": (nil, "deny", .allAuthenticated, .deny, 0),
        "flag last": (nil, nil, .clusterAuthenticated, .clusterAuthenticated, 0),
        // policy-semantics.md: an unknown value is reported and counts as deny.
        "unknown pod value counts as deny": ("denyy", "all-unauthenticated", .allUnauthenticated, .deny, 1),
        "unknown namespace value counts as deny": (nil, "Deny", .allUnauthenticated, .deny, 1),
        "unknown values are both reported": ("x", "Deny", .allUnauthenticated, .deny, 2),
    ]

    @Test(arguments: precedence.keys.sorted())
    func defaultPolicyPrecedence(_ name: String) throws {
        let (podValue, namespaceValue, flag, expected, problems) = try #require(Self.precedence[name])
        let pod = Pod(namespace: "n", name: "p", defaultInboundPolicy: podValue, addresses: [ip("10.244.1.1")])
        let snapshot = ClusterSnapshot(namespaces: ["n": Namespace(name: "n", defaultInboundPolicy: namespaceValue)],
                                       pods: [pod.ref: pod])
        let result = PolicyCompiler.compile(snapshot, settings: AgentSettings(defaultInboundPolicy: flag))
        #expect(result.state.addresses[ip("10.244.1.1")]?.defaultPolicy == expected)
        #expect(result.diagnostics.count == problems)
        #expect(result.diagnostics.allSatisfy { $0.field == "metadata.annotations[config.linkerd.io/default-inbound-policy]" })
        if problems > 0 { #expect(result.diagnostics.first?.object == "Pod n/p" || result.diagnostics.first?.object == "Namespace n") }
    }

    @Test func networksMakeOneClassPerPrefixAndExceptsAreExact() throws {
        var snapshot = Walkthrough.snapshot
        snapshot.policies = [PolicyRef(namespace: "demo", name: "office"): Policy(
            namespace: "demo", name: "office", target: LabelSelector(matchLabels: ["app": "backend"]),
            sources: [PolicySource(networks: [NetworkBlock(cidr: cidr("203.0.113.0/24"), except: [cidr("203.0.113.7/32")])])])]
        let state = PolicyCompiler.compile(snapshot, settings: Walkthrough.settings).state
        #expect(state.cidrs.count == 3)
        let office = try #require(state.cidrs[cidr("203.0.113.0/24")])
        let kiosk = try #require(state.cidrs[cidr("203.0.113.7/32")])
        #expect(!office.inCluster && !kiosk.inCluster)
        let allowed = Set(state.policy.keys.map(\.source)).subtracting([.none])
        #expect(allowed == [office.cidrClass])
        #expect(state.longestCIDRMatch(ip("203.0.113.7"))?.value == kiosk)
        #expect(state.longestCIDRMatch(ip("::ffff:203.0.113.8"))?.value == office)
    }

    /// Contract (policy-semantics.md, `networks`): "With pod fields in the same
    /// entry, a pod matches only if its own address is inside: two pods with the
    /// same labels, one inside and one outside, get different answers."
    @Test func networksWithPodFieldsAreDecidedPerPodAddress() throws {
        var snapshot = Walkthrough.snapshot
        let twin = Pod(namespace: "demo", name: "frontend-2", labels: ["app": "frontend"], addresses: [ip("10.245.0.1")])
        let policy = Policy(namespace: "demo", name: "p", target: LabelSelector(matchLabels: ["app": "backend"]),
                            sources: [PolicySource(podSelector: LabelSelector(matchLabels: ["app": "frontend"]),
                                                   networks: [NetworkBlock(cidr: cidr("10.244.0.0/16"))])])
        snapshot.policies = [policy.ref: policy]
        snapshot.pods[twin.ref] = twin
        let cgroupOf = cgroups(snapshot)
        let result = PolicyCompiler.compile(snapshot, settings: Walkthrough.settings, localCgroups: cgroupOf)
        let state = result.state
        // The two frontends share labels but not an identity.
        let inside = try #require(state.addresses[ip("10.244.0.10")]).identity
        let outside = try #require(state.addresses[ip("10.245.0.1")]).identity
        #expect(inside != outside && inside.isPod && outside.isPod)
        #expect(result.identities[inside]?.networks == [[NetworkBlock(cidr: cidr("10.244.0.0/16"))]])
        #expect(result.identities[outside]?.networks == [])
        let backendCgroup = try #require(cgroupOf[Walkthrough.backend.ref])
        // Server side, by source address; client side, by the client's cgroup.
        #expect(MapLookup.server(state, target: backendCgroup, source: ip("10.244.0.10"), port: 8080, transport: .tcp).allowed)
        #expect(!MapLookup.server(state, target: backendCgroup, source: ip("10.245.0.1"), port: 8080, transport: .tcp).allowed)
        let inCgroup = try #require(cgroupOf[Walkthrough.frontend.ref]), outCgroup = try #require(cgroupOf[twin.ref])
        #expect(MapLookup.client(state, source: inCgroup, destination: ip("10.244.0.11"), port: 8080, transport: .tcp)?.allowed == true)
        #expect(MapLookup.client(state, source: outCgroup, destination: ip("10.244.0.11"), port: 8080, transport: .tcp)?.allowed == false)
        // The reference evaluator gives the same two answers.
        let settings = Walkthrough.settings
        #expect(Decision.evaluate(snapshot, settings: settings, from: .pod(Walkthrough.frontend.ref),
                                  to: Walkthrough.backend.ref, port: 8080, transport: .tcp)?.allowed == true)
        #expect(Decision.evaluate(snapshot, settings: settings, from: .pod(twin.ref),
                                  to: Walkthrough.backend.ref, port: 8080, transport: .tcp)?.allowed == false)
    }

    @Test func aPodHalfInsideTheNetworksFailsClosed() throws {
        var snapshot = Walkthrough.snapshot
        var dual = Walkthrough.frontend
        dual.addresses = [ip("10.244.0.10"), ip("fd00::10")]
        snapshot.pods[dual.ref] = dual
        let policy = Policy(namespace: "demo", name: "p", target: LabelSelector(matchLabels: ["app": "backend"]),
                            sources: [PolicySource(podSelector: LabelSelector(matchLabels: ["app": "frontend"]),
                                                   networks: [NetworkBlock(cidr: cidr("10.244.0.0/16"))])])
        snapshot.policies = [policy.ref: policy]
        let state = PolicyCompiler.compile(snapshot, settings: Walkthrough.settings).state
        #expect(!state.policy.keys.contains { $0.source.isPod })
        #expect(Decision.evaluate(snapshot, settings: Walkthrough.settings, from: .pod(dual.ref),
                                  to: Walkthrough.backend.ref, port: 8080, transport: .tcp)?.allowed == false)
    }

    @Test func theSameNetworksWrittenInAnotherOrderGiveOneIdentity() throws {
        var snapshot = Walkthrough.snapshot
        let a = NetworkBlock(cidr: cidr("10.244.0.0/24")), b = NetworkBlock(cidr: cidr("10.244.1.0/24"))
        let frontend = LabelSelector(matchLabels: ["app": "frontend"])
        let p1 = Policy(namespace: "demo", name: "p1", target: .everything, ports: [PolicyPort(port: .number(1, endPort: nil))],
                        sources: [PolicySource(podSelector: frontend, networks: [a, b])])
        let p2 = Policy(namespace: "demo", name: "p2", target: .everything, ports: [PolicyPort(port: .number(2, endPort: nil))],
                        sources: [PolicySource(podSelector: frontend, networks: [b, a])])
        snapshot.policies = [p1.ref: p1, p2.ref: p2]
        let result = PolicyCompiler.compile(snapshot, settings: Walkthrough.settings)
        let id = try #require(result.state.addresses[ip("10.244.0.10")]).identity
        #expect(result.identities[id]?.networks.count == 1)
        let allowedPorts = Set(result.state.policy.filter { $0.key.source == id }.map(\.key.port))
        #expect(allowedPorts == [1, 2])
    }
}
