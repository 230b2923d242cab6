import Testing
import PodgateModel
@testable import PodgateCompiler

/// policy-semantics.md, "An error never widens access", last bullet: a pod
/// address claimed by two pods belongs to the pod that holds it now.
@Suite struct AddressOwnershipTests {
    static let address = IPAddress("10.244.1.50")!
    static let settings = AgentSettings(nodeName: "worker-1")

    static func pod(_ name: String, created: String? = "2024-05-02T10:00:00Z", phase: String? = "Running",
                    terminating: Bool = false, netns: Bool = false) -> Pod {
        Pod(namespace: "demo", name: name, uid: "uid-\(name)", labels: ["app": name], nodeName: "worker-1",
            addresses: [address], phase: phase, isTerminating: terminating, creationTimestamp: created,
            netnsAddresses: netns ? [address] : [])
    }

    static func owner(_ pods: [Pod]) -> (owner: AddressOwner?, problems: [String]) {
        var snapshot = ClusterSnapshot()
        for pod in pods { snapshot.pods[pod.ref] = pod }
        let result = ClusterFacts.addressOwners(snapshot, settings: settings)
        return (result.owners[address], result.problems.map(\.description))
    }

    static func ref(_ name: String) -> AddressOwner { .pod(PodRef(namespace: "demo", name: name)) }

    // The attack: an old pod whose name sorts first keeps an address a new pod now holds.
    @Test func aTerminatingPodNeverOwnsAnAddressAgainstARunningPod() {
        let old = Self.pod("aaa-old", created: "2024-05-02T12:00:00Z", terminating: true)
        let new = Self.pod("zzz-new", created: "2024-05-02T10:00:00Z")
        let result = Self.owner([old, new])
        #expect(result.owner == Self.ref("zzz-new"), "even though the terminating pod is newer and sorts first")
        #expect(result.problems == ["Pod demo/aaa-old: status.podIPs address 10.244.1.50 is already held by pod demo/zzz-new; ignored for this pod"])
    }

    @Test(arguments: ["Succeeded", "Failed"])
    func aFinishedPodClaimsNothing(phase: String) {
        let finished = Self.pod("aaa-done", created: "2024-05-02T12:00:00Z", phase: phase)
        #expect(Self.owner([finished]).owner == nil, "a finished pod's address is free")
        let result = Self.owner([finished, Self.pod("zzz-new")])
        #expect(result.owner == Self.ref("zzz-new"))
        #expect(result.problems.isEmpty, "a finished pod is no conflict")
    }

    @Test func aTerminatingPodAloneKeepsItsAddress() {
        // Still running its grace period: its connections are its own.
        #expect(Self.owner([Self.pod("leaving", terminating: true)]).owner == Self.ref("leaving"))
    }

    @Test func amongRunningPodsTheMostRecentlyCreatedWins() {
        let older = Self.pod("aaa-older", created: "2024-05-02T10:00:00Z")
        let newer = Self.pod("zzz-newer", created: "2024-05-02T10:00:01Z")
        let result = Self.owner([older, newer])
        #expect(result.owner == Self.ref("zzz-newer"), "not the smaller PodRef")
        #expect(result.problems.count == 1 && result.problems[0].hasPrefix("Pod demo/aaa-older"))
    }

    @Test func onItsNodeThePodWhoseNetworkNamespaceHoldsTheAddressWins() {
        let holder = Self.pod("aaa-holder", created: "2024-05-02T10:00:00Z", netns: true)
        let newer = Self.pod("zzz-newer", created: "2024-05-02T11:00:00Z")
        #expect(Self.owner([holder, newer]).owner == Self.ref("aaa-holder"))
        // A terminating holder still loses to a live pod: "never owns an address against a running pod".
        let leaving = Self.pod("aaa-leaving", terminating: true, netns: true)
        #expect(Self.owner([leaving, newer]).owner == Self.ref("zzz-newer"))
    }

    @Test func aClaimSeenOnlyInANamespaceNeverBeatsOneTheAPIReports() {
        var unreported = Self.pod("aaa-self-assigned", created: "2024-05-02T12:00:00Z", netns: true)
        unreported.addressesReported = false
        let reported = Self.pod("zzz-reported", created: "2024-05-02T10:00:00Z")
        #expect(Self.owner([unreported, reported]).owner == Self.ref("zzz-reported"), "though newer and held in its namespace")
    }

    @Test func theAnswerDoesNotDependOnOrder() {
        let pods = [Self.pod("a", created: "2024-05-02T10:00:00Z"), Self.pod("b", created: "2024-05-02T10:00:02Z", terminating: true),
                    Self.pod("c", created: "2024-05-02T10:00:01Z"), Self.pod("d", created: nil),
                    Self.pod("e", created: "2024-05-02T09:00:00Z", phase: "Pending")]
        let expected = Self.owner(pods)
        #expect(expected.owner == Self.ref("c"))
        for rotation in 1..<pods.count {
            let rotated = Array(pods[rotation...] + pods[..<rotation])
            #expect(Self.owner(rotated).owner == expected.owner)
            #expect(Self.owner(rotated).problems == expected.problems)
        }
    }

    @Test func theNodesOwnAddressesStillComeFirst() {
        let settings = AgentSettings(nodeName: "worker-1", nodeAddresses: [Self.address])
        var snapshot = ClusterSnapshot()
        let pod = Self.pod("claims-the-node", netns: true)
        snapshot.pods[pod.ref] = pod
        let result = ClusterFacts.addressOwners(snapshot, settings: settings)
        #expect(result.owners[Self.address] == .node("worker-1"))
        #expect(result.problems.count == 1)
    }
}

import PodgateManifests

/// Local mode reads status.phase and metadata.deletionTimestamp from the
/// manifests and gives contested addresses by the same rule.
@Suite struct LocalModeLifecycleTests {
    @Test func manifestsWithATerminatingAndAFinishedPod() throws {
        let text = """
        apiVersion: v1
        kind: Pod
        metadata: {name: aaa-leaving, namespace: demo, creationTimestamp: "2024-05-02T12:00:00Z", deletionTimestamp: "2024-05-02T12:05:00Z"}
        status: {phase: Running, podIPs: [{ip: 10.244.1.50}]}
        ---
        apiVersion: v1
        kind: Pod
        metadata: {name: bbb-done, namespace: demo}
        status: {phase: Succeeded, podIPs: [{ip: 10.244.1.51}]}
        ---
        apiVersion: v1
        kind: Pod
        metadata: {name: zzz-new, namespace: demo, creationTimestamp: "2024-05-02T10:00:00Z"}
        status: {phase: Running, podIPs: [{ip: 10.244.1.50}, {ip: 10.244.1.51}]}
        """
        let set = ManifestSet(text: text)
        #expect(set.diagnostics.isEmpty, "\(set.diagnostics)")
        let result = ClusterFacts.addressOwners(set.snapshot, settings: AgentSettings(nodeName: "worker-1"))
        let new = AddressOwner.pod(PodRef(namespace: "demo", name: "zzz-new"))
        #expect(result.owners[IPAddress("10.244.1.50")!] == new)
        #expect(result.owners[IPAddress("10.244.1.51")!] == new)
        #expect(result.problems.map(\.object) == ["Pod demo/aaa-leaving"])
    }
}
