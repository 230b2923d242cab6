import Foundation
import PodgateTestSupport
import Testing
import PodgateDatapath
import PodgateKubeFixtures
import PodgateModel

/// The real agent's memory in Kubernetes mode against the fixture API server
/// serving a synthetic cluster of the sizes the README states (pods /
/// policies / namespaces: 1k/100/10, 10k/1k/100, 150k/5k/1k). A benchmark:
/// it prints figures and asserts only that the agent got there. Runs when
/// PODGATE_MEMORY_PODS lists the pod counts (e.g. `1000,10000,150000`); the
/// DaemonSet's memory request and limit come from these figures.
@Suite(.serialized, .enabled(if: KernelGate.enabled && ProcessInfo.processInfo.environment["PODGATE_MEMORY_PODS"] != nil))
struct KubeAgentMemoryTests {
    static var sizes: [Int] {
        (ProcessInfo.processInfo.environment["PODGATE_MEMORY_PODS"] ?? "").split(separator: ",").compactMap { Int($0) }
    }

    static func status(_ pid: Int32, _ field: String) -> Int {
        let text = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
        let line = text.split(separator: "\n").first { $0.hasPrefix(field + ":") } ?? ""
        return Int(line.split(separator: " ").dropFirst().first ?? "") ?? -1
    }

    @Test func agentMemoryAtTheSupportedClusterSizes() async throws {
        let executable = try KernelGate.executable()
        for pods in Self.sizes {
            let policies = pods >= 150_000 ? 5_000 : pods / 10
            let namespaces = pods >= 150_000 ? 1_000 : pods / 100
            let nodes = max(1, pods / 100)
            let started = ContinuousClock.now
            let cluster = try FixtureCluster()
            for n in 0..<namespaces {
                cluster.put(APIPath.namespaces, Fixtures.namespaceJSON("ns-\(n)", uid: uid(1_000_000 + n), resourceVersion: ""))
            }
            for n in 0..<pods {
                let ip = "10.\(64 + n / 65536).\((n / 256) % 256).\(n % 256)"
                cluster.put(APIPath.pods, Fixtures.podJSON("pod-\(n)", namespace: "ns-\(n % namespaces)", uid: uid(n), resourceVersion: "",
                                                           app: "app-\(n % 500)", ip: ip, node: "worker-\(1 + n % nodes)"))
            }
            for n in 0..<policies {
                cluster.put(APIPath.policies, Fixtures.policyJSON("policy-\(n)", namespace: "ns-\(n % namespaces)", uid: uid(2_000_000 + n),
                                                                  resourceVersion: "", target: "app-\(n % 500)", port: 8000 + n % 100,
                                                                  source: "app-\((n + 1) % 500)"))
            }
            let generated = ContinuousClock.now - started
            let env = try KubeAgentEnvironment(cluster: cluster)
            defer { env.tearDown() }
            let agent = try env.startAgent(executable: executable)
            let listed = ContinuousClock.now
            let ready = try await eventually(600, pollMicroseconds: 200_000) {
                env.healthAddress.flatMap { httpStatus($0, path: "/readyz") } == 200
            }
            #expect(ready, "not ready at \(pods) pods; log:\n\(agent.log.suffix(3000))")
            let readyAfter = ContinuousClock.now - listed
            // Let a resync or two pass: the peak of steady state, not only of the first sync.
            try await Task.sleep(for: .seconds(5))
            let pid = agent.processID
            let hwm = Self.status(pid, "VmHWM"), rss = Self.status(pid, "VmRSS")
            let addresses = (try? env.realized().addresses.count) ?? -1
            print(String(format: "agent memory, Kubernetes mode: pods=%d policies=%d ns=%d: VmHWM %.1f MiB, VmRSS %.1f MiB; ready %@ after start; %d addresses in the map; fixture built in %@",
                         pods, policies, namespaces, Double(hwm) / 1024, Double(rss) / 1024, "\(readyAfter)", addresses, "\(generated)"))
            if addresses < pods { print(agent.log.suffix(4000)) }
            await agent.stop()
        }
    }
}
