import Testing
import PodgateCompiler
import PodgateModel
@testable import PodgateAgent

/// How addresses learned from a pod's network namespace join the snapshot.
@Suite struct NetnsAddressMergeTests {
    static func pod(_ name: String, uid: String, node: String = "worker-1", addresses: [String] = [],
                    created: String = "2024-05-02T10:00:00Z") -> Pod {
        Pod(namespace: "demo", name: name, uid: uid, labels: ["app": name], nodeName: node,
            addresses: addresses.map { IPAddress($0)! }, phase: addresses.isEmpty ? "Pending" : "Running", creationTimestamp: created)
    }

    static func snapshot(_ pods: [Pod]) -> ClusterSnapshot {
        var snapshot = ClusterSnapshot()
        for pod in pods { snapshot.pods[pod.ref] = pod }
        return snapshot
    }

    @Test func beforeTheAPIReportsTheNamespacesAddressesAreThePods() {
        var snapshot = Self.snapshot([Self.pod("new", uid: "u-new")])
        let problems = APISnapshot.addNetnsAddresses(["u-new": [IPAddress("10.244.1.9")!]], nodeName: "worker-1", to: &snapshot)
        let pod = snapshot.pods[PodRef(namespace: "demo", name: "new")]!
        #expect(problems.isEmpty)
        #expect(pod.addresses == [IPAddress("10.244.1.9")!] && !pod.addressesReported)
    }

    // The attack: a new pod able to add addresses to its interface claims a
    // running pod's address (of another node): it must neither own it nor
    // be allowed to send from it.
    @Test func aPodCannotTakeAnAddressTheAPIReportsForAnotherPod() {
        let victim = Self.pod("victim", uid: "u-victim", node: "worker-2", addresses: ["10.244.2.5"])
        var snapshot = Self.snapshot([victim, Self.pod("attacker", uid: "u-attacker", created: "2024-05-02T11:00:00Z")])
        let problems = APISnapshot.addNetnsAddresses(["u-attacker": [IPAddress("10.244.2.5")!, IPAddress("10.244.1.9")!]],
                                                     nodeName: "worker-1", to: &snapshot)
        let attacker = snapshot.pods[PodRef(namespace: "demo", name: "attacker")]!
        #expect(attacker.addresses == [IPAddress("10.244.1.9")!], "the victim's address is not the attacker's own (anti-spoofing)")
        #expect(problems.map(\.description) == ["Pod demo/attacker: status.podIPs its network namespace holds 10.244.2.5, which the API reports for pod demo/victim; not used"])
        let owners = ClusterFacts.addressOwners(snapshot, settings: AgentSettings(nodeName: "worker-1")).owners
        #expect(owners[IPAddress("10.244.2.5")!] == .pod(victim.ref))
    }

    @Test func anAddressOutsideTheClusterNetworksIsNotUsed() {
        var snapshot = Self.snapshot([Self.pod("new", uid: "u-new")])
        let problems = APISnapshot.addNetnsAddresses(["u-new": [IPAddress("192.0.2.7")!, IPAddress("10.244.1.9")!]], nodeName: "worker-1",
                                                     clusterNetworks: [CIDR("10.244.0.0/16")!], to: &snapshot)
        #expect(snapshot.pods[PodRef(namespace: "demo", name: "new")]!.addresses == [IPAddress("10.244.1.9")!])
        #expect(problems.count == 1 && problems[0].message.contains("outside --cluster-networks"))
    }

    @Test func onceReportedTheAPIsAddressesAreUsedAndADisagreementIsReported() {
        var snapshot = Self.snapshot([Self.pod("web", uid: "u-web", addresses: ["10.244.1.9"])])
        let problems = APISnapshot.addNetnsAddresses(["u-web": [IPAddress("10.244.1.10")!]], nodeName: "worker-1", to: &snapshot)
        let pod = snapshot.pods[PodRef(namespace: "demo", name: "web")]!
        #expect(pod.addresses == [IPAddress("10.244.1.9")!] && pod.addressesReported)
        #expect(problems.map(\.description) == ["Pod demo/web: status.podIPs 10.244.1.9 differs from the addresses in its network namespace on this node (10.244.1.10); the API's are used"])
        // Agreement: no report, and the namespace confirms the claim.
        var agreeing = Self.snapshot([Self.pod("web", uid: "u-web", addresses: ["10.244.1.9"])])
        #expect(APISnapshot.addNetnsAddresses(["u-web": [IPAddress("10.244.1.9")!]], nodeName: "worker-1", to: &agreeing).isEmpty)
        #expect(agreeing.pods[PodRef(namespace: "demo", name: "web")]!.netnsAddresses == [IPAddress("10.244.1.9")!])
    }

    @Test func podsOfOtherNodesAndHostNetworkPodsLearnNothing() {
        var remote = Self.pod("remote", uid: "u-remote", node: "worker-2")
        var host = Self.pod("host", uid: "u-host")
        host.hostNetwork = true
        remote.addresses = []
        var snapshot = Self.snapshot([remote, host])
        _ = APISnapshot.addNetnsAddresses(["u-remote": [IPAddress("10.244.2.9")!], "u-host": [IPAddress("10.244.1.9")!]],
                                          nodeName: "worker-1", to: &snapshot)
        #expect(snapshot.pods.values.allSatisfy { $0.addresses.isEmpty && $0.netnsAddresses.isEmpty })
    }
}
