import Foundation
import PodgateTestSupport
import PodgateCgroups
import PodgateModel
import Testing
@testable import PodgateDatapath

/// The agent's life, with the real executable: SIGKILL and restart, a pod
/// started while the agent is down, policies flipping under load, a state
/// that does not fit the maps. Probes run continuously throughout.
@Suite(.serialized, .kernel)
struct AgentLifecycleTests {
    static let basePods = [
        "ns.yaml": Manifests.namespace(),
        "frontend.yaml": Manifests.pod("frontend", ip: "10.201.0.1", labels: ["app": "frontend"]),
        "other.yaml": Manifests.pod("other", ip: "10.201.0.3", labels: ["app": "other"]),
        "backend.yaml": Manifests.pod("backend", ip: "10.201.0.2", labels: ["app": "backend"], ports: [8080]),
    ]

    /// Zero denied connections through, zero allowed ones failed, across
    /// five SIGKILLs and restarts; and a pod whose cgroup appears while the
    /// agent is down is refused inbound (unknown-pod-policy deny) until the
    /// restarted agent registers it.
    @Test func sigkillAndRestartOpenNoGap() throws {
        let harness = try AgentHarness()
        defer { harness.tearDown() }
        for pod in ["frontend", "other", "backend"] { try harness.makePodCgroup(pod) }
        try harness.write(Self.basePods.merging(["policy.yaml": Manifests.policy("p", target: "backend", ports: [8080], sources: ["frontend"])]) { $1 })
        try harness.startAgent()
        try harness.waitApplied()
        try harness.server("backend", address: "10.201.0.2", ports: [8080])

        let stop = harness.directory + "/stop"
        let allowed = try harness.loop(from: "frontend", source: "10.201.0.1", to: "10.201.0.2", allowedPort: 8080, deniedPort: 0, stopFile: stop)
        let denied = try harness.loop(from: "other", source: "10.201.0.3", to: "10.201.0.2", allowedPort: 0, deniedPort: 8080, stopFile: stop)

        var late: [String] = []
        for round in 0..<5 {
            usleep(400_000)
            harness.killAgent()
            unlink(harness.state + "/applied-generation")
            usleep(300_000)  // probes keep running with no agent at all
            if round == 2 {
                // A pod starts while the agent is down: its cgroup and its listener.
                try harness.makePodCgroup("late")
                try harness.server("late", address: "10.201.0.4", ports: [9090])
                late.append(try harness.script(in: "frontend", namespace: harness.clients,
                                               ["loop", "10.201.0.1", "10.201.0.4", "0", "9090", harness.directory + "/late-stop", "1"]).finish().lines.joined(separator: " "))
                try harness.write(["late.yaml": Manifests.pod("late", ip: "10.201.0.4", labels: ["app": "late"], ports: [9090])])
            }
            try harness.startAgent()
            try harness.waitApplied()
        }
        usleep(400_000)
        // Registered by the restarted agent: the late pod is reachable now.
        let after = try harness.script(in: "frontend", namespace: harness.clients,
                                       ["loop", "10.201.0.1", "10.201.0.4", "9090", "0", harness.directory + "/late-stop", "0.5"]).finish().lines

        creat(stop, 0o600)
        let allowedLines = allowed.finish().lines, deniedLines = denied.finish().lines
        let ok = AgentHarness.counts(allowedLines.first ?? ""), bad = AgentHarness.counts(deniedLines.first ?? "")
        print("restart probes: allowed \(allowedLines.first ?? "-"); denied \(deniedLines.first ?? "-"); late pod while down: \(late)")
        #expect(ok["allowed_fail"] == 0, "\(allowedLines)")
        #expect((ok["allowed_ok"] ?? 0) >= 200, "\(allowedLines)")
        #expect(bad["denied_leaked"] == 0, "\(deniedLines)")
        #expect((bad["denied_blocked"] ?? 0) >= 200, "\(deniedLines)")
        #expect(AgentHarness.counts(late.first ?? "")["denied_leaked"] == 0, "late pod reached while unregistered: \(late)")
        #expect((AgentHarness.counts(late.first ?? "")["denied_blocked"] ?? 0) >= 1, "\(late)")
        #expect(AgentHarness.summary(after)["allowed_fail"] == 0, "\(after)")
        #expect((AgentHarness.summary(after)["allowed_ok"] ?? 0) >= 1, "\(after)")
    }

    /// Make-before-break: the policy flips between overlapping source sets
    /// ({frontend, both} and {both, other}) while the pod in both sets and the
    /// target change labels (so their identity and target class change too):
    /// "both" never fails, hundreds of times over. Revocation is on (the
    /// default): both's connection held open across all flips is never cut,
    /// while frontend's, refused by the first flip, is.
    @Test func policyFlipsNeverCutSourcesAllowedBeforeAndAfter() throws {
        let harness = try AgentHarness()
        defer { harness.tearDown() }
        for pod in ["frontend", "other", "backend", "both"] { try harness.makePodCgroup(pod) }
        func round(_ flip: Bool) -> [String: String] {
            let revision = flip ? "b" : "a"
            return Self.basePods.merging([
                "ns.yaml": Manifests.namespace(defaultPolicy: "deny"),
                "both.yaml": Manifests.pod("both", ip: "10.201.0.5", labels: ["app": "both", "rev": revision]),
                "backend.yaml": Manifests.pod("backend", ip: "10.201.0.2", labels: ["app": "backend", "rev": revision], ports: [8080, 8081]),
                "policy.yaml": Manifests.policy("p", target: "backend", ports: [8080, 8081],
                                                sources: flip ? ["both", "other"] : ["frontend", "both"]),
            ]) { $1 }
        }
        try harness.write(round(false))
        try harness.startAgent()
        try harness.waitApplied()
        try harness.server("backend", address: "10.201.0.2", ports: [8080])
        let stop = harness.directory + "/stop"
        let both = try harness.loop(from: "both", source: "10.201.0.5", to: "10.201.0.2", allowedPort: 8080, deniedPort: 0, stopFile: stop)
        // Long-lived connections to an echo server on 8081 (the helper session's echo-server).
        let echo = try harness.sandbox.session(cgroup: harness.cgroup("backend"), namespace: harness.servers,
                                             ["echo-server", "10.201.0.2", "8081", ""])
        _ = echo.nextLine()
        guard echo.nextLine() == "ready" else { throw CommandError(message: "echo server did not start") }
        func hold(_ pod: String, _ source: String) throws -> HelperProcess {
            let held = try harness.sandbox.session(cgroup: harness.cgroup(pod), namespace: harness.clients,
                                                 ["hold", source, stop, "held,tcp,10.201.0.2,8081"])
            _ = held.nextLine()
            guard held.nextLine() == "ready" else { throw CommandError(message: "\(pod) could not hold a connection") }
            return held
        }
        let bothHeld = try hold("both", "10.201.0.5")
        let frontendHeld = try hold("frontend", "10.201.0.1")

        let flips = 200
        for index in 1...flips {
            try harness.write(round(index % 2 == 1))
            try harness.waitApplied()
        }
        usleep(200_000)
        creat(stop, 0o600)
        let lines = both.finish().lines
        let bothHeldLines = bothHeld.finish().lines
        let frontendHeldLines = frontendHeld.finish().lines
        #expect(bothHeldLines == ["alive held"], "a connection both versions allow is never cut: \(bothHeldLines)")
        #expect(frontendHeldLines.contains { $0.hasPrefix("cut held") }, "revoked by the first flip: \(frontendHeldLines)")
        let counts = AgentHarness.counts(lines.first ?? "")
        print("flip probes: \(flips) flips, \(lines.first ?? "-")")
        #expect(counts["allowed_fail"] == 0, "\(lines)")
        #expect((counts["allowed_ok"] ?? 0) >= 200, "\(lines)")
        // An even number of flips: back to {frontend, both}; other is out.
        let other = try harness.script(in: "other", namespace: harness.clients,
                                       ["loop", "10.201.0.3", "10.201.0.2", "0", "8080", stop + "-x", "0.3"]).finish().lines
        let frontend = try harness.script(in: "frontend", namespace: harness.clients,
                                          ["loop", "10.201.0.1", "10.201.0.2", "8080", "0", stop + "-x", "0.3"]).finish().lines
        #expect(AgentHarness.summary(other)["denied_leaked"] == 0, "\(other)")
        #expect((AgentHarness.summary(other)["denied_blocked"] ?? 0) > 0, "\(other)")
        #expect(AgentHarness.summary(frontend)["allowed_fail"] == 0, "\(frontend)")
    }

    /// A state that does not fit is refused whole and reported; the previous
    /// state stays enforced (the allowed client still gets in, the denied one
    /// still does not), and the agent keeps running.
    @Test func stateThatDoesNotFitIsRefusedAndThePreviousOneEnforced() throws {
        let harness = try AgentHarness()
        defer { harness.tearDown() }
        harness.extraArguments = ["--max-policy-entries", "16"]
        for pod in ["frontend", "other", "backend"] { try harness.makePodCgroup(pod) }
        try harness.write(Self.basePods.merging(["policy.yaml": Manifests.policy("p", target: "backend", ports: [8080], sources: ["frontend"])]) { $1 })
        try harness.startAgent()
        try harness.waitApplied()
        try harness.server("backend", address: "10.201.0.2", ports: [8080])
        let before = try DatapathMaps(pinDirectory: harness.sandbox.pinDirectory).realizedState().desiredStateShape

        // Now "other" instead of "frontend", plus a policy with 40 separate ports: too many entries.
        // The too-wide policy first: the agent may read between the two writes,
        // and each state it can see must be one that does not fit.
        try harness.write(["wide.yaml": Manifests.policy("wide", target: "backend", ports: Array(stride(from: 10001, through: 10080, by: 2)), sources: ["other"])])
        try harness.write(["policy.yaml": Manifests.policy("p", target: "backend", ports: [8080], sources: ["other"])])
        let deadline = Date().addingTimeInterval(10)
        while access(harness.state + "/apply-error", F_OK) != 0 && Date() < deadline { usleep(20_000) }
        let report = (try? String(contentsOfFile: harness.state + "/apply-error", encoding: .utf8)) ?? ""
        #expect(report.contains("policy map would need"), "reported: \(report)")
        #expect(report.contains("--max-policy-entries"))
        #expect(harness.log.contains("keeping the last good state"))
        #expect(harness.agent?.isRunning == true)
        #expect(try DatapathMaps(pinDirectory: harness.sandbox.pinDirectory).realizedState().desiredStateShape == before)

        let stop = harness.directory + "/stop"
        let frontend = try harness.script(in: "frontend", namespace: harness.clients,
                                          ["loop", "10.201.0.1", "10.201.0.2", "8080", "0", stop, "0.3"]).finish().lines
        let other = try harness.script(in: "other", namespace: harness.clients,
                                       ["loop", "10.201.0.3", "10.201.0.2", "0", "8080", stop, "0.3"]).finish().lines
        #expect(AgentHarness.summary(frontend)["allowed_fail"] == 0, "\(frontend)")
        #expect(AgentHarness.summary(other)["denied_leaked"] == 0, "\(other)")

        // Fits again (the wide policy removed): applied, the report goes away.
        unlink(harness.manifests + "/wide.yaml")
        try harness.write([:])
        try harness.waitApplied()
        #expect(access(harness.state + "/apply-error", F_OK) != 0)
    }
}
