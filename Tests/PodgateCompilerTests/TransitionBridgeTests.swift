import Testing
import PodgateModel
@testable import PodgateCompiler

/// A policy flips between overlapping source sets while the source pod and
/// the target both change labels: the source's identity and the target's
/// class change in one step. Every intermediate kernel state, one map write
/// at a time, must keep allowing what both ends allow.
@Suite struct TransitionBridgeTests {
    static let namespace = Namespace(name: "shop", defaultInboundPolicy: "deny")

    static func snapshot(revision: String, sources: [String]) -> ClusterSnapshot {
        var snapshot = ClusterSnapshot(namespaces: ["shop": namespace])
        let pods = [
            Pod(namespace: "shop", name: "both", labels: ["app": "both", "rev": revision], addresses: [ip("10.244.0.5")]),
            Pod(namespace: "shop", name: "backend", labels: ["app": "backend", "rev": revision],
                ports: [ContainerPort(port: 8080)], addresses: [ip("10.244.0.2")]),
            Pod(namespace: "shop", name: "frontend", labels: ["app": "frontend"], addresses: [ip("10.244.0.1")]),
            Pod(namespace: "shop", name: "other", labels: ["app": "other"], addresses: [ip("10.244.0.3")]),
        ]
        for pod in pods { snapshot.pods[pod.ref] = pod }
        let policy = Policy(namespace: "shop", name: "p", target: LabelSelector(matchLabels: ["app": "backend"]),
                            ports: [PolicyPort(port: .number(8080, endPort: nil))],
                            sources: sources.map { PolicySource(podSelector: LabelSelector(matchLabels: ["app": $0])) })
        snapshot.policies[policy.ref] = policy
        return snapshot
    }

    /// Applies `operations` one by one and reports each state in which `both`
    /// cannot reach backend:8080, on either side.
    static func refusals(from start: DesiredState, _ operations: [MapOperation], cgroup: CgroupID, backendCgroup: CgroupID) -> Int {
        var state = start
        var refused = 0
        for operation in operations {
            state = state.applying([operation])
            let client = MapLookup.client(state, source: cgroup, destination: ip("10.244.0.2"), port: 8080, transport: .tcp)
            let server = MapLookup.server(state, target: backendCgroup, source: ip("10.244.0.5"), port: 8080, transport: .tcp)
            if client?.allowed == false || !server.allowed { refused += 1 }
        }
        return refused
    }

    @Test func aFlipOfIdentityAndClassTogetherNeverRefusesWhatBothEndsAllow() throws {
        let settings = AgentSettings(nodeName: "a")
        let before = Self.snapshot(revision: "a", sources: ["frontend", "both"])
        let after = Self.snapshot(revision: "b", sources: ["both", "other"])
        let local = cgroups(before)
        let old = PolicyCompiler.compile(before, settings: settings, localCgroups: local)
        let new = PolicyCompiler.compile(after, settings: settings, localCgroups: local, previous: old.allocation)
        let both = try #require(local[PodRef(namespace: "shop", name: "both")])
        let backend = try #require(local[PodRef(namespace: "shop", name: "backend")])
        // The test's premise: both pointers move.
        #expect(old.state.endpoints[both]?.identity != new.state.endpoints[both]?.identity)
        #expect(old.state.endpoints[backend]?.targetClass != new.state.endpoints[backend]?.targetClass)

        // The plain diff passes through a state that pairs an old pointer with a new one.
        let direct = StateDiff.operations(from: old.state, to: new.state)
        #expect(Self.refusals(from: old.state, direct, cgroup: both, backendCgroup: backend) > 0)

        // Through the bridge: never.
        let bridge = TransitionBridge.bridge(from: old.state, to: new.state)
        #expect(bridge != new.state)
        let first = StateDiff.operations(from: old.state, to: bridge)
        let second = StateDiff.operations(from: bridge, to: new.state)
        #expect(Self.refusals(from: old.state, first + second, cgroup: both, backendCgroup: backend) == 0)
        #expect(old.state.applying(first + second) == new.state)
        // Only deletes remain for the second step: the bridge is the new state plus copies.
        #expect(second.allSatisfy { if case .deletePolicy = $0 { true } else { false } })
    }

    /// A restarted agent numbers afresh: the namespace class of "shop" (a
    /// whole-namespace source), the identities and the target classes all
    /// move at once. The bridge keeps every step allowing both ends.
    @Test func aRestartRenumberingNamespaceClassesOpensNoGap() throws {
        let settings = AgentSettings(nodeName: "a")
        var after = Self.snapshot(revision: "a", sources: [])
        after.policies[PolicyRef(namespace: "shop", name: "p")]?.sources = [PolicySource(podSelector: .everything)]
        var before = after
        // An earlier namespace took the first numbers before the restart.
        let early = Pod(namespace: "aaa", name: "early", labels: ["app": "early"], addresses: [ip("10.244.0.9")])
        before.pods[early.ref] = early
        let local = cgroups(after)
        let old = PolicyCompiler.compile(before, settings: settings, localCgroups: local)
        let new = PolicyCompiler.compile(after, settings: settings, localCgroups: local)
        let both = try #require(local[PodRef(namespace: "shop", name: "both")])
        let backend = try #require(local[PodRef(namespace: "shop", name: "backend")])
        #expect(old.state.endpoints[both]?.namespaceClass != new.state.endpoints[both]?.namespaceClass)
        #expect(old.state.endpoints[backend]?.targetClass != new.state.endpoints[backend]?.targetClass)
        #expect(new.state.policy.keys.contains { $0.source.isNamespaceClass })

        let direct = StateDiff.operations(from: old.state, to: new.state)
        #expect(Self.refusals(from: old.state, direct, cgroup: both, backendCgroup: backend) > 0)
        let bridge = TransitionBridge.bridge(from: old.state, to: new.state)
        let steps = StateDiff.operations(from: old.state, to: bridge) + StateDiff.operations(from: bridge, to: new.state)
        #expect(Self.refusals(from: old.state, steps, cgroup: both, backendCgroup: backend) == 0)
        #expect(old.state.applying(steps) == new.state)
    }

    @Test func noBridgeForAnIdentityThatStaysInUse() {
        let settings = AgentSettings(nodeName: "a")
        // Two replicas share an identity; only one is relabelled, so the old
        // identity stays live and must not inherit the new one's permissions.
        var before = Self.snapshot(revision: "a", sources: ["both"])
        let twin = Pod(namespace: "shop", name: "twin", labels: ["app": "both", "rev": "a"], addresses: [ip("10.244.0.6")])
        before.pods[twin.ref] = twin
        var after = before
        after.pods[PodRef(namespace: "shop", name: "both")]?.labels = ["app": "both", "rev": "b"]
        after.policies[PolicyRef(namespace: "shop", name: "p")]?.sources = [PolicySource(podSelector: LabelSelector(matchLabels: ["rev": "b"]))]
        let old = PolicyCompiler.compile(before, settings: settings, localCgroups: cgroups(before))
        let new = PolicyCompiler.compile(after, settings: settings, localCgroups: cgroups(after), previous: old.allocation)
        #expect(TransitionBridge.bridge(from: old.state, to: new.state) == new.state)
    }

    @Test func nothingToBridgeWhenNothingMoves() {
        let settings = AgentSettings(nodeName: "a")
        let state = PolicyCompiler.compile(Self.snapshot(revision: "a", sources: ["both"]), settings: settings).state
        #expect(TransitionBridge.bridge(from: state, to: state) == state)
        #expect(TransitionBridge.bridge(from: nil, to: state) == state)
    }
}
