import Foundation
import PodgateModel
import PodgateTestSupport
import PodgateCgroups
import Testing
@testable import PodgateDatapath

/// A host-network pod is its node (policy-semantics: "a host-network pod has
/// its node's address: it is seen as that node, not as a pod"). Its cgroup is
/// registered as identity HOST, so the client side leaves its connections to
/// the server, which allows them only as "from the node P runs on" (rule 2)
/// and only while `--allow-from-host` is true. Its labels never match a
/// podSelector; a host-network pod of another node is that other node.
/// (The simulator covers the same in Tests/scenarios-more/multi-node.yaml.)
@Suite(.serialized, .kernel)
struct HostNetworkTests {
    static func hostPod(_ name: String, ip: String, node: String? = nil) -> String {
        let nodeName = node.map { "nodeName: \($0), " } ?? ""
        return """
            apiVersion: v1
            kind: Pod
            metadata: {name: \(name), namespace: demo, uid: uid-\(name), labels: {app: frontend}}
            spec: {\(nodeName)hostNetwork: true, containers: [{name: c}]}
            status: {podIPs: [{ip: \(ip)}]}

            """
    }

    @Test func aHostNetworkPodIsItsNodeNotAPod() async throws {
        let harness = try AgentHarness()
        defer { harness.tearDown() }
        // This node's address is 10.201.0.6 (the local host-network pod's);
        // 10.201.0.5 is node "b"'s (its host-network pod is not local).
        harness.extraArguments = ["--node-address", "10.201.0.6"]
        for pod in ["frontend", "backend", "exporter"] { try harness.makePodCgroup(pod) }
        try harness.write([
            "ns.yaml": Manifests.namespace(defaultPolicy: "deny"),
            "frontend.yaml": Manifests.pod("frontend", ip: "10.201.0.1", labels: ["app": "frontend"]),
            "backend.yaml": Manifests.pod("backend", ip: "10.201.0.2", labels: ["app": "backend"], ports: [8080, 9090]),
            "exporter.yaml": Self.hostPod("exporter", ip: "10.201.0.6"),
            "exporter-b.yaml": Self.hostPod("exporter-b", ip: "10.201.0.5", node: "b"),
            "policy.yaml": Manifests.policy("p", target: "backend", ports: [8080], sources: ["frontend"]),
        ])
        try harness.startAgent()
        try await harness.waitAppliedAsync()
        try harness.server("backend", address: "10.201.0.2", ports: [8080, 9090])
        let maps = try DatapathMaps(pinDirectory: harness.sandbox.pinDirectory)
        let exporterCgroup = try Cgroups.id(of: harness.cgroup("exporter"))
        #expect(try maps.realizedState().endpoints[exporterCgroup]?.identity == .host, "registered as the node")

        func connect(_ pod: String?, from source: String, port: Int) async throws -> String {
            let cgroup = pod.map { harness.cgroup($0) }
            let lines = try await harness.sandbox.session(cgroup: cgroup, namespace: harness.clients,
                                                  ["connect-from", source, "10.201.0.2", "\(port)", "1.5"]).finishedAsync().lines
            return lines.joined(separator: " ")
        }
        func serverDenied() throws -> UInt64 { FloodTests.sum(try maps.counters(), .server, .denied) }
        func clientDenied() throws -> UInt64 { FloodTests.sum(try maps.counters(), .client, .denied) }

        // --allow-from-host=true (the default): rule 2, on any port, because it is this node.
        #expect(try await connect("exporter", from: "10.201.0.6", port: 8080) == "connected")
        #expect(try await connect("exporter", from: "10.201.0.6", port: 9090) == "connected", "default deny does not apply to the node")
        // Node b's host-network pod (same labels, app=frontend) is node b: refused at the server.
        var denied = try serverDenied()
        #expect(try await connect(nil, from: "10.201.0.5", port: 8080) == "timeout", "a podSelector matched another node's host-network pod")
        #expect(try serverDenied() >= denied + 1, "refused at the server (each SYN, retransmits included, is counted)")
        #expect(try await connect("frontend", from: "10.201.0.1", port: 8080) == "connected")

        // --allow-from-host=false: the same process is refused, at the server
        // (the client side leaves host-network connections to the server: no
        // EPERM), although its labels match the policy's podSelector.
        harness.stopAgent()
        unlink(harness.state + "/applied-generation")
        harness.extraArguments += ["--allow-from-host", "false"]
        try harness.startAgent()
        try await harness.waitAppliedAsync()
        #expect(try maps.realizedState().config?.allowFromHost == false)
        denied = try serverDenied()
        let clientBefore = try clientDenied()
        #expect(try await connect("exporter", from: "10.201.0.6", port: 8080) == "timeout", "the node got in with --allow-from-host=false")
        #expect(try await connect("exporter", from: "10.201.0.6", port: 9090) == "timeout")
        #expect(try await connect(nil, from: "10.201.0.5", port: 8080) == "timeout")
        #expect(try serverDenied() >= denied + 3)
        #expect(try clientDenied() == clientBefore, "host-network connections are judged at the server only")
        #expect(try await connect("frontend", from: "10.201.0.1", port: 8080) == "connected")
        let events = EventsFile.records(harness.directory + "/events.jsonl")
        #expect(events.contains { $0.src == "10.201.0.6" }, "the refusal of the node is reported")
    }
}
