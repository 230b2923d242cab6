import PodgateTestSupport
#if canImport(Glibc)
import Glibc
#endif
import Testing
import PodgateModel
@testable import PodgateSim

/// The whole runner: file -> plan -> topology -> rounds -> report -> cleanup.
/// Without an agent nothing is enforced, so those runs test the plumbing
/// (namespaces, veths, routes, listeners, steps that add and remove pods,
/// the exit code); the run with agents tests that a refusal is one.
extension KernelSuites {
@Suite struct RunnerPlumbingKernelTests {
    static let denyingNamespace = m(("apiVersion", s("v1")), ("kind", s("Namespace")),
                                    ("metadata", m(("name", s("d")), ("annotations", m(("config.linkerd.io/default-inbound-policy", s("deny")))))))

    func runScenario(expect: [DocumentValue], steps: DocumentValue, agents: Bool = false, namespace: DocumentValue = namespaceDoc("d")) throws -> Int32 {
        let executable = try KernelGate.executable()
        let file = "/tmp/podgate-sim-test-\(getpid()).yaml"
        try Files.write(file, "S")
        defer { unlink(file) }
        let scenario = m(("name", s("runner")), ("manifests", s("M")), ("expect", .list(expect)), ("steps", steps),
                         ("probeTimeoutSeconds", s("0.5")), ("externals", l(m(("name", s("out")), ("ip", s("203.0.113.9"))))))
        let parser = fakeParser([
            "S": [scenario],
            "M": [namespace, podDoc("d", "web", node: "a", dualStack: true, ports: [(80, "TCP"), (53, "UDP")]),
                  podDoc("d", "cli", node: "b")],
            "A": [podDoc("d", "late", node: "b", ports: [(8080, "TCP")])],
        ])
        var options = SimOptions(executable: executable)
        options.startAgents = agents
        let before = Set(simNamespaces())
        let code = SimRunner.run(file: file, options: options, parseDocuments: parser)
        #expect(Set(simNamespaces()).subtracting(before).isEmpty)
        return code
    }

    @Test func withoutAgentsEveryPodReachesEveryPortAcrossStepsThatAddAndRemovePods() throws {
        let steps = l(m(("apply", s("A")), ("expect", l(probe("d/cli", "d/late", 8080, "allow"), probe("external/out", "d/late", 8080, "allow")))),
                      m(("delete", l(m(("kind", s("Pod")), ("namespace", s("d")), ("name", s("late"))))),
                        ("expect", l(probe("host/b", "d/web", 80, "allow", ("family", s("ipv6")))))))
        let code = try runScenario(expect: [probe("d/cli", "d/web", 80, "allow"), probe("d/cli", "d/web", 53, "allow", ("protocol", s("UDP"))),
                                            probe("host/a", "d/web", 80, "allow", ("family", s("ipv4-mapped")))], steps: steps)
        #expect(code == 0)
    }

    @Test func aFailedExpectationExitsOne() throws {
        let code = try runScenario(expect: [probe("d/cli", "d/web", 80, "deny")], steps: l())
        #expect(code == 1)
    }

    /// With the agents, a default-deny namespace refuses, and the refusal
    /// is reported; the same expectation without agents fails (exit 1), so
    /// it is the agent that refused, not the plumbing.
    @Test func withAgentsADefaultDenyNamespaceRefuses() throws {
        let refused = [probe("d/cli", "d/web", 80, "deny", ("event", m(("where", s("client")), ("reason", s("default-deny")))))]
        #expect(try runScenario(expect: refused, steps: l(), agents: true, namespace: Self.denyingNamespace) == 0)
        #expect(try runScenario(expect: refused, steps: l(), agents: false, namespace: Self.denyingNamespace) == 1)
    }
}
}

/// The simulator's namespaces only (`podgate-RUN-...`): other test targets'
/// kernel suites run in parallel and create `podgate-t-...` ones of their
/// own, and other `podgate sim` processes on the machine create theirs.
/// Those of a run whose runner is another live process are not ours to count.
func simNamespaces() -> [String] {
    Files.list("/run/netns").filter { $0.hasPrefix("podgate-") && !$0.hasPrefix("podgate-t-") }
        .filter { name in
            let parts = name.split(separator: "-")
            return parts.count < 2 || !runOfAnotherLiveProcess(String(parts[1]))
        }
}

/// The simulator's state files, without those of other live runners.
func simStateFiles() -> [String] {
    Files.list(RunState.directory).filter { file in
        !(file.hasSuffix(".state") && runOfAnotherLiveProcess(String(file.dropLast(".state".count))))
    }
}

/// True when `run`'s state file names a live runner that is not this process.
func runOfAnotherLiveProcess(_ run: String) -> Bool {
    guard let text = try? Files.read("\(RunState.directory)/\(run).state"),
          let first = text.split(separator: "\n").first else { return false }
    let fields = first.split(separator: " ")
    guard fields.count >= 3, fields[0] == "runner", let pid = pid_t(fields[1]), let start = UInt64(fields[2]) else { return false }
    return pid != getpid() && RunState.isAlive(pid, start: start)
}
