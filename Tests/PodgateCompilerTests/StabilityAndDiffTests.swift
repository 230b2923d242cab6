import Testing
import PodgateModel
@testable import PodgateCompiler

@Suite struct StabilityAndDiffTests {
    static let settings = Walkthrough.settings

    @Test func recompilingChangesNothing() {
        let snapshot = Walkthrough.snapshot
        let first = PolicyCompiler.compile(snapshot, settings: Self.settings, localCgroups: cgroups(snapshot))
        let second = PolicyCompiler.compile(snapshot, settings: Self.settings, localCgroups: cgroups(snapshot), previous: first.allocation)
        #expect(second == first)
        #expect(StateDiff.operations(from: first.state, to: second.state).isEmpty)
    }

    @Test func numbersOfThingsThatStayNeverChangeAndFreedOnesAreNotReused() throws {
        var snapshot = Walkthrough.snapshot
        let first = PolicyCompiler.compile(snapshot, settings: Self.settings)
        // A pod that sorts first arrives, with a new identity and class: the others keep theirs.
        let early = Pod(namespace: "aaa", name: "early", labels: ["x": "y"], addresses: [ip("10.244.0.2")])
        snapshot.pods[early.ref] = early
        let second = PolicyCompiler.compile(snapshot, settings: Self.settings, previous: first.allocation)
        for (key, id) in first.allocation.identities.ids { #expect(second.allocation.identities[key] == id) }
        for (key, id) in first.allocation.targetClasses.ids { #expect(second.allocation.targetClasses[key] == id) }
        for (key, id) in first.allocation.pods.ids { #expect(second.allocation.pods[key] == id) }
        let earlyIdentity = try #require(second.allocation.identities[IdentityKey(early)])
        #expect(earlyIdentity > first.allocation.identities.ids.values.max() ?? 0)
        // It leaves and comes back: a new number, never the old one.
        snapshot.pods[early.ref] = nil
        let third = PolicyCompiler.compile(snapshot, settings: Self.settings, previous: second.allocation)
        #expect(third.allocation.identities[IdentityKey(early)] == nil)
        snapshot.pods[early.ref] = early
        let fourth = PolicyCompiler.compile(snapshot, settings: Self.settings, previous: third.allocation)
        #expect(fourth.allocation.identities[IdentityKey(early)] == earlyIdentity + 1)
        #expect(fourth.allocation.pods[early.ref] != second.allocation.pods[early.ref])
    }

    @Test func relabellingOnePodChangesOnlyItsEntries() throws {
        var snapshot = Walkthrough.snapshot
        let bystander = Pod(namespace: "demo", name: "bystander", labels: ["app": "other"], addresses: [ip("10.244.0.12")])
        snapshot.pods[bystander.ref] = bystander
        let local = cgroups(snapshot)
        let before = PolicyCompiler.compile(snapshot, settings: Self.settings, localCgroups: local)
        var relabelled = Walkthrough.frontend
        relabelled.labels["version"] = "2"
        snapshot.pods[relabelled.ref] = relabelled
        let after = PolicyCompiler.compile(snapshot, settings: Self.settings, localCgroups: local, previous: before.allocation)
        let ops = StateDiff.operations(from: before.state, to: after.state)

        let oldIdentity = try #require(before.state.addresses[ip("10.244.0.10")]?.identity)
        let newIdentity = try #require(after.state.addresses[ip("10.244.0.10")]?.identity)
        #expect(oldIdentity != newIdentity)
        let frontendCgroup = try #require(local[relabelled.ref])
        for op in ops {
            switch op {
            case let .updatePolicy(key, _), let .deletePolicy(key):
                #expect([oldIdentity, newIdentity].contains(key.source), "\(op)")
            case let .updateAddress(address, _), let .deleteAddress(address):
                #expect(address == ip("10.244.0.10"), "\(op)")
            case let .updateEndpoint(cgroup, _), let .deleteEndpoint(cgroup):
                #expect(cgroup == frontendCgroup, "\(op)")
            default:
                Issue.record("unexpected \(op)")
            }
        }
        // new allow entry, the address, the endpoint, then the old allow entry goes.
        #expect(ops.count == 4)
        #expect(before.state.applying(ops) == after.state)
    }

    @Test func operationsComeInTheSafeOrder() throws {
        let empty = DesiredState(config: DatapathConfig(allowFromHost: true, denyUnknownPods: true))
        let snapshot = Walkthrough.snapshot
        let full = PolicyCompiler.compile(snapshot, settings: Self.settings, localCgroups: cgroups(snapshot)).state
        let up = StateDiff.operations(from: nil, to: full)
        #expect(up.map(Self.group) == up.map(Self.group).sorted())
        #expect(up.first == .setConfig(full.config))
        // Allow entries before the "covered" entry that makes the port authorized-only.
        let policyOps = up.compactMap { op -> PolicyKey? in if case let .updatePolicy(key, _) = op { key } else { nil } }
        #expect(policyOps.last?.source == IdentityID.none)
        #expect(empty.applying(up) == full)

        let down = StateDiff.operations(from: full, to: empty)
        #expect(down.map(Self.group) == down.map(Self.group).sorted())
        let deletes = down.compactMap { op -> PolicyKey? in if case let .deletePolicy(key) = op { key } else { nil } }
        #expect(deletes.first?.source == IdentityID.none)
        #expect(full.applying(down) == empty)
        #expect(StateDiff.operations(from: full, to: full).isEmpty)
    }

    /// The rank of an operation in the documented order.
    static func group(_ op: MapOperation) -> Int {
        switch op {
        case .setConfig: 0
        case .updatePolicy: 1
        case .updateCIDR: 2
        case .updateAddress: 3
        case .updateEndpoint: 4
        case .deleteEndpoint: 5
        case .deleteAddress: 6
        case .deleteCIDR: 7
        case .deletePolicy: 8
        }
    }
}
