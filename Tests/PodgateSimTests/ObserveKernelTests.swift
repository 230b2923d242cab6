import CPodgateABI
#if canImport(Glibc)
import Glibc
#endif
import Foundation
import PodgateModel
import PodgateTestSupport
import Testing
@testable import PodgateSim

/// The observability commands against a real simulated cluster: `podgate
/// sim --hold` builds it and keeps it up; the tests run the built binary.
final class HeldCluster {
    let process: pid_t
    let output: String
    let pinDirectory: String
    let stateDirectory: String
    let healthAddress: String
    let executable: String

    init(scenario: String) throws {
        let executable = try KernelGate.executable()
        self.executable = executable
        output = "/tmp/podgate-hold-test-\(getpid())-\(Int.random(in: 0..<1_000_000)).out"
        let child = try Processes.spawn(executable, ["sim", "--hold", "\(PodgateExecutable.packageRoot)/Tests/scenarios/\(scenario)"],
                                        stdout: .file(output), stderr: .file(output + ".err"))
        process = child.pid
        var text = ""
        let deadline = Clock.now + 60
        while !text.contains("holding the cluster up") {
            if let status = Processes.poll(process) {
                let log = (try? Files.read(output + ".err")) ?? ""
                unlink(output); unlink(output + ".err")
                throw SimError("podgate sim --hold exited (\(status)):\n\(log)")
            }
            guard Clock.now < deadline else {
                Processes.stop(process)
                throw SimError("podgate sim --hold did not come up in 60 s")
            }
            usleep(100_000)
            text = (try? Files.read(output)) ?? ""
        }
        func field(_ flag: String) -> String {
            text.split(separator: "\n").first { $0.hasPrefix("node a:") }?
                .components(separatedBy: flag + " ").last?.split(separator: " ").first.map(String.init) ?? ""
        }
        pinDirectory = field("--pin-dir")
        stateDirectory = field("--state-dir")
        healthAddress = ((try? Files.read(AgentDefaults.healthAddressFile(stateDirectory: stateDirectory))) ?? "").trimmingWhitespace
    }

    /// SIGINT, as a user's Ctrl-C: the sim cleans up and exits 0.
    func stop() -> Int32 {
        kill(process, SIGINT)
        let status = Processes.wait(process)
        unlink(output)
        unlink(output + ".err")
        return status
    }

    func run(_ arguments: [String]) throws -> (status: Int32, output: String) {
        try Command.status(executable: executable, arguments)
    }

    func json(_ arguments: [String]) throws -> [String: Any] {
        let (status, text) = try run(arguments)
        #expect(status == 0, "\(arguments): \(text)")
        let line = text.split(separator: "\n").first { $0.hasPrefix("{") }.map(String.init) ?? ""
        return (try JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any] ?? [:]
    }

    func http(_ path: String) throws -> String {
        try Processes.run("/usr/bin/curl", ["-s", "-i", "http://\(healthAddress)\(path)"]).output
    }
}

extension KernelSuites {
@Suite struct ObserveKernelTests {
    @Test func commandsAgainstAHeldSeedWalkthrough() throws {
        let cluster = try HeldCluster(scenario: "seed-walkthrough.yaml")
        var stopped = false
        defer { if !stopped { _ = cluster.stop() } }
        let pin = ["--pin-dir", cluster.pinDirectory]
        let state = ["--state-dir", cluster.stateDirectory]
        #expect(!cluster.pinDirectory.isEmpty && !cluster.stateDirectory.isEmpty)

        // maps dump: names from the agent; the last round deleted the policy.
        let dump = try cluster.json(["maps", "dump"] + pin + state + ["-o", "json"])
        #expect(dump["namesAvailable"] as? Bool == true)
        let sections = dump["sections"] as? [String: [[String: Any]]] ?? [:]
        let endpoints = sections["endpoints"] ?? []
        #expect(Set(endpoints.compactMap { $0["pod"] as? String }) == ["demo/frontend", "demo/backend"])
        #expect(endpoints.allSatisfy { $0["defaultPolicy"] as? String == "deny" })
        let addresses = sections["addresses"]?.compactMap { $0["owner"] as? String } ?? []
        #expect(addresses.contains("demo/backend") && addresses.contains("node a"))
        let counters = sections["counters"] ?? []
        #expect(counters.contains { ($0["counter"] as? String) == "client denied default-deny" && (($0["value"] as? Int) ?? 0) >= 4 })

        // --pod filter and a table with the agent's names.
        let filtered = try cluster.run(["maps", "dump", "endpoints", "--pod", "backend"] + pin + state)
        #expect(filtered.status == 0)
        #expect(filtered.output.contains("demo/backend") && !filtered.output.contains("demo/frontend"))

        // With no agent answering: raw numbers, and it says so.
        let raw = try cluster.run(["maps", "dump", "endpoints"] + pin + ["--state-dir", "/nonexistent"])
        #expect(raw.status == 0)
        #expect(raw.output.contains("names unavailable") && raw.output.contains("the agent is not running"))
        let missing = try cluster.run(["maps", "dump", "--pin-dir", "/sys/fs/bpf/podgate-no-such-dir"])
        #expect(missing.status == 2 && missing.output.contains("--pin-dir"))

        // status
        let status = try cluster.json(["status"] + state + ["-o", "json"])
        #expect(status["ready"] as? Bool == true)
        #expect(status["abiVersion"] as? Int == Int(PODGATE_ABI_VERSION))
        let programs = status["programs"] as? [[String: Any]] ?? []
        #expect(programs.count == 6 && programs.allSatisfy { !(($0["programIDs"] as? [Int]) ?? []).isEmpty })
        let counts = status["counts"] as? [String: Any] ?? [:]
        #expect(counts["endpoints"] as? Int == 2 && counts["identities"] as? Int == 2)
        let events = status["events"] as? [String: Any] ?? [:]
        #expect(((events["emitted"] as? Int) ?? 0) >= 4)
        let down = try cluster.run(["status", "--state-dir", "/nonexistent"])
        #expect(down.status == 1 && down.output.contains("the agent is not running") && down.output.contains("maps dump"))

        // events tail: the history holds the probes' refusals with their nearest miss.
        let (tailStatus, tailText) = try cluster.run(["events", "tail", "--since", "10m", "--limit", "3", "--port", "9000", "--duration", "5s"] + state + ["-o", "json"])
        #expect(tailStatus == 0)
        let tail = tailText.split(separator: "\n").filter { $0.hasPrefix("{") }.compactMap {
            try? JSONDecoder().decode(EventRecord.self, from: Data($0.utf8))
        }
        #expect(!tail.isEmpty)
        #expect(tail.allSatisfy { $0.dstPort == 9000 && $0.verdict == .denied })
        #expect(tail.contains { $0.nearestMiss == ["demo/frontend-can-talk-to-backend allows TCP/8080 from pods app=frontend in demo"] })
        #expect(tail.allSatisfy { $0.where == .client && $0.pid != nil })

        // explain, table and JSON
        let explain = try cluster.json(["explain", "--from", "demo/frontend", "--to", "demo/backend", "--port", "8080"] + state + ["-o", "json"])
        #expect(explain["verdict"] as? String == "denied")
        #expect(explain["defaultPolicyOrigin"] as? String == "annotation on namespace demo")
        #expect(explain["agreesWithKernel"] as? Bool == true)
        let fromHost = try cluster.run(["explain", "--from", "host/a", "--to", "demo/backend", "--port", "8080"] + state)
        #expect(fromHost.status == 0 && fromHost.output.contains("ALLOWED") && fromHost.output.contains("rule 2"))
        let bad = try cluster.run(["explain", "--from", "demo/nope", "--to", "demo/backend", "--port", "1"] + state)
        #expect(bad.status == 1 && bad.output.contains("--from demo/nope"))

        // HTTP endpoints
        let metrics = try cluster.http("/metrics")
        #expect(metrics.hasPrefix("HTTP/1.1 200"))
        #expect(metrics.contains("podgate_connections_total{direction=\"client\",verdict=\"denied\",reason=\"default-deny\"}"))
        #expect(metrics.contains("podgate_map_capacity{map=\"\(PODGATE_MAP_POLICY)\"} \(PODGATE_POLICY_MAX)"))
        #expect(metrics.contains("podgate_policy_compile_seconds_count"))
        #expect(try cluster.http("/readyz").hasPrefix("HTTP/1.1 200"))
        #expect(try cluster.http("/healthz").hasPrefix("HTTP/1.1 200"))
        #expect(try cluster.http("/nope").hasPrefix("HTTP/1.1 404"))

        stopped = true
        #expect(cluster.stop() == 0)
        #expect(access(cluster.pinDirectory, F_OK) != 0)
        // Only this run's namespaces: other suites may hold clusters of their own.
        let run = cluster.pinDirectory.split(separator: "/").last.map { $0.split(separator: "-") }.map { String($0[2]) } ?? "?"
        #expect(simNamespaces().filter { $0.hasPrefix("podgate-\(run)-") }.isEmpty)
    }

    @Test func severalTailsEachSeeEveryLiveEvent() throws {
        let cluster = try HeldCluster(scenario: "seed-walkthrough.yaml")
        defer { _ = cluster.stop() }
        let hold = try Files.read(cluster.output)
        guard let frontend = hold.split(separator: "\n").first(where: { $0.hasPrefix("pod demo/frontend") }),
              let backend = hold.split(separator: "\n").first(where: { $0.hasPrefix("pod demo/backend") }) else {
            Issue.record("no pod lines in the --hold output")
            return
        }
        func flag(_ line: Substring, _ name: String) -> String {
            line.components(separatedBy: name + " ").last?.split(separator: " ").first.map(String.init) ?? ""
        }
        let backendAddress = String(backend.split(separator: " ")[4])
        let tails = try (0..<3).map { n in
            try Processes.spawn(cluster.executable, ["events", "tail", "--state-dir", cluster.stateDirectory, "--limit", "50",
                                                     "--duration", "20s", "-o", "json"], stdout: .file("\(cluster.output).tail\(n)"))
        }
        defer { (0..<3).forEach { unlink("\(cluster.output).tail\($0)") } }
        usleep(500_000)
        let flood = try Processes.run(cluster.executable, ["sim-helper", "flood", "--cgroup", flag(frontend, "--cgroup"),
                                                           "--netns", flag(frontend, "--netns"), "--to", backendAddress,
                                                           "--port", "8080", "--rate", "100", "--seconds", "0.5"])
        #expect(flood.output.contains("refused 50"), "\(flood.output)")
        for (n, tail) in tails.enumerated() {
            #expect(Processes.wait(tail.pid) == 0)
            let lines = ((try? Files.read("\(cluster.output).tail\(n)")) ?? "").split(separator: "\n")
            #expect(lines.count == 50, "tail \(n) saw \(lines.count) events")
        }
    }

    /// `podgate explain` against every probe of every example scenario:
    /// explain's verdict must be the real probe's (and its kernel cross-check must agree).
    @Test(arguments: ["default-policies.yaml", "dual-stack.yaml", "invalid-policy.yaml", "named-ports-and-ranges.yaml",
                      "namespace-selector.yaml", "networks.yaml", "port-granularity.yaml", "seed-walkthrough.yaml",
                      "service-accounts.yaml", "udp.yaml"])
    func explainAgreesWithTheKernel(scenario: String) throws {
        let executable = try KernelGate.executable()
        let (status, output) = try Command.status(executable: executable, ["sim", "--explain", "\(PodgateExecutable.packageRoot)/Tests/scenarios/\(scenario)"])
        #expect(status == 0, "\(output)")
        #expect(output.contains("podgate explain agreed with"))
        #expect(!output.contains("FAIL"))
    }

    /// Two nodes, two agents: a host-network pod is its node (its labels
    /// match no podSelector), the other node is not "the node P runs on".
    @Test func multiNodeAndHostNetworkScenario() throws {
        let executable = try KernelGate.executable()
        let (status, output) = try Command.status(executable: executable, ["sim", "\(PodgateExecutable.packageRoot)/Tests/scenarios-more/multi-node.yaml"])
        #expect(status == 0, "\(output)")
        #expect(output.contains("11 passed, 0 failed"), "\(output)")
    }
}
}
