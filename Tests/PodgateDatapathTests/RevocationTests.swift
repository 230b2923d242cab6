import Foundation
import PodgateTestSupport
import PodgateCgroups
import PodgateModel
import Testing
@testable import PodgateDatapath

/// Issue 14 with the real agent: a change that refuses an open connection
/// closes it (both ends on this node), and nothing else: not a connection on
/// another port, not one from a source still allowed, not a listener.
@Suite(.serialized, .kernel)
struct RevocationTests {
    static func pods() -> [String: String] {
        [
            "ns.yaml": Manifests.namespace(defaultPolicy: "deny"),
            "frontend.yaml": Manifests.pod("frontend", ip: "10.201.0.1", labels: ["app": "frontend"]),
            "other.yaml": Manifests.pod("other", ip: "10.201.0.3", labels: ["app": "other"]),
            "backend.yaml": Manifests.pod("backend", ip: "10.201.0.2", labels: ["app": "backend"], ports: [8080, 9090]),
        ]
    }

    /// web: backend:8080 from `web`; admin: backend:9090 from frontend; dns: backend:5353/UDP from `dns`.
    static func policies(web: [String], dns: [String]) -> [String: String] {
        [
            "web.yaml": Manifests.policy("web", target: "backend", ports: [8080], sources: web),
            "admin.yaml": Manifests.policy("admin", target: "backend", ports: [9090], sources: ["frontend"]),
            "dns.yaml": Manifests.policy("dns", target: "backend", ports: [5353], sources: dns)
                .replacingOccurrences(of: "{port: 5353}", with: "{port: 5353, protocol: UDP}"),
        ]
    }

    static func monotonic() -> Double {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
    }

    struct Setup {
        let harness: AgentHarness
        let frontend: HelperProcess
        let other: HelperProcess
        let stop: String
    }

    static func start(_ extra: [String] = [], environment: [String: String] = [:]) throws -> Setup {
        let harness = try AgentHarness()
        do {
            harness.extraArguments = extra
            harness.extraEnvironment = environment
            for pod in ["frontend", "other", "backend"] { try harness.makePodCgroup(pod) }
            try harness.write(pods().merging(policies(web: ["frontend", "other"], dns: ["frontend", "other"])) { $1 })
            try harness.startAgent()
            try harness.waitApplied()
            let server = try harness.sandbox.session(cgroup: harness.cgroup("backend"), namespace: harness.servers,
                                                   ["echo-server", "10.201.0.2", "8080,9090", "5353"])
            _ = server.nextLine()
            guard server.nextLine() == "ready" else { throw CommandError(message: "echo server did not start") }
            let stop = harness.directory + "/stop-hold"
            func hold(_ pod: String, _ source: String, _ specs: [String]) throws -> HelperProcess {
                let p = try harness.sandbox.session(cgroup: harness.cgroup(pod), namespace: harness.clients,
                                                  ["hold", source, stop] + specs)
                _ = p.nextLine()
                let ready = p.nextLine()
                guard ready == "ready" else { throw CommandError(message: "\(pod) could not open its connections: \(ready ?? "-")") }
                return p
            }
            let frontend = try hold("frontend", "10.201.0.1", ["web,tcp,10.201.0.2,8080", "admin,tcp,10.201.0.2,9090", "dns,udp,10.201.0.2,5353"])
            let other = try hold("other", "10.201.0.3", ["web,tcp,10.201.0.2,8080", "dns,udp,10.201.0.2,5353"])
            return Setup(harness: harness, frontend: frontend, other: other, stop: stop)
        } catch {
            harness.tearDown()
            throw error
        }
    }

    static func status(_ harness: AgentHarness) throws -> String {
        try Command.run([AgentHarness.executable!, "status", "--state-dir", harness.state])
    }

    /// Reads "cut NAME T" lines until `names` are all cut or the timeout.
    static func cuts(_ probe: HelperProcess, expecting names: Set<String>, timeout: Double) -> [String: Double] {
        var found: [String: Double] = [:]
        let deadline = monotonic() + timeout
        while Set(found.keys) != names, monotonic() < deadline, let line = probe.nextLine() {
            let parts = line.split(separator: " ")
            if parts.count >= 3, parts[0] == "cut", let t = Double(parts[2]) { found[String(parts[1])] = t }
        }
        return found
    }

    @Test func revokingClosesExactlyTheRefusedConnections() throws {
        let setup = try Self.start()
        let harness = setup.harness
        defer { harness.tearDown() }
        #expect(try Self.status(harness).contains("revocation: on"), "\(harness.log)")

        // frontend loses 8080 and 5353/UDP; `other` keeps both; 9090 stays frontend's.
        let changed = Self.monotonic()
        try harness.write(Self.policies(web: ["other"], dns: ["other"]))
        let cut = Self.cuts(setup.frontend, expecting: ["web", "dns"], timeout: 5)
        try harness.waitApplied()
        usleep(300_000)  // whatever would wrongly be cut has time to be
        creat(setup.stop, 0o600)
        let frontend = setup.frontend.finish().lines
        let other = setup.other.finish().lines
        let latencies = cut.mapValues { Int(($0 - changed) * 1000) }
        print("revocation: change to cut (ms, from the manifest write): \(latencies.sorted { $0.key < $1.key })")

        #expect(Set(cut.keys) == ["web", "dns"], "frontend: \(frontend)\n\(harness.log)")
        // The issue's 100 ms, with room for a machine shared by several builds.
        for (name, ms) in latencies { #expect(ms < 1000, "\(name) cut after \(ms) ms") }
        #expect(frontend.contains("alive admin"), "another port survives: \(frontend)")
        #expect(other.contains("alive web") && other.contains("alive dns"), "a source still allowed survives: \(other)")
        // The listeners survive: a new connection from a source still allowed gets in.
        let again = try harness.sandbox.session(cgroup: harness.cgroup("other"), namespace: harness.clients,
                                              ["connect-once", "10.201.0.3", "10.201.0.2", "8080"]).finish().lines
        #expect(again.contains("connected"), "\(again)")

        // Reported: both pods, the port, the change; and counted.
        let events = EventsFile.records(harness.directory + "/events.jsonl").filter { $0.verdict == .revoked }
        let web = events.filter { $0.dstPort == 8080 }
        // One end's destruction (a RST) may close the other end before its own
        // namespace is walked: one event or two, each naming both pods.
        #expect(!web.isEmpty, "\(events)")
        #expect(web.allSatisfy { $0.srcPod == "demo/frontend" && $0.dstPod == "demo/backend"
            && $0.change?.contains("policy demo/web changed") == true }, "\(events)")
        #expect(events.contains { $0.dstPort == 5353 && $0.protocol == "UDP" }, "\(events)")
        #expect(!events.contains { $0.srcPod == "demo/other" || $0.dstPod == "demo/other" || $0.dstPort == 9090 }, "\(events)")
        // `podgate events tail` shows them too, with the cause.
        let tail = try Command.run([AgentHarness.executable!, "events", "tail", "--since", "5m", "--verdict", "revoked",
                                          "--port", "8080", "--limit", "1", "--state-dir", harness.state])
        #expect(tail.contains("REVOKED") && tail.contains("demo/frontend") && tail.contains("demo/backend")
                && tail.contains("closed after: ") && tail.contains("policy demo/web changed"), "\(tail)")
        let counters = try DatapathMaps(pinDirectory: harness.sandbox.pinDirectory, readOnly: true).counters()
        #expect(counters[.server, .revoked, .notAuthorized] + counters[.client, .revoked, .notAuthorized] == UInt64(events.count), "\(counters)")
        #expect(counters[.client, .revoked, .notAuthorized] >= 1, "the UDP one: \(counters)")
    }

    /// The attack: sockets of processes outside every pod cgroup (here in a
    /// cgroup the programs are not attached to) that use pod addresses, on
    /// both ends. Judged by address they would be frontend -> db:7070, which
    /// the change refuses; they are no pod's sockets, so they stay open.
    @Test func socketsOutsideManagedPodsAreNeverClosed() throws {
        let setup = try Self.start()
        let harness = setup.harness
        let outside = harness.sandbox.cgroupMount + "/podgate-test-\(harness.sandbox.tag)-outside"
        defer {
            harness.tearDown()  // kills the processes first
            try? Cgroups.remove(outside)
        }
        try Cgroups.create(outside)
        try harness.makePodCgroup("db")
        let db = ["db.yaml": Manifests.pod("db", ip: "10.201.0.4", labels: ["app": "db"], ports: [7070])]
        try harness.write(db.merging(["dbp.yaml": Manifests.policy("dbp", target: "db", ports: [7070], sources: ["frontend"])]) { $1 })
        try harness.waitApplied()
        let server = try harness.sandbox.session(cgroup: outside, namespace: harness.servers,
                                               ["echo-server", "10.201.0.4", "7070", ""])
        _ = server.nextLine()
        guard server.nextLine() == "ready" else { throw CommandError(message: "outside server did not start") }
        let stop = harness.directory + "/stop-outside"
        let ghost = try harness.sandbox.session(cgroup: outside, namespace: harness.clients,
                                              ["hold", "10.201.0.1", stop, "ghost,tcp,10.201.0.4,7070"])
        _ = ghost.nextLine()
        guard ghost.nextLine() == "ready" else { throw CommandError(message: "outside client could not connect") }

        try harness.write(["dbp.yaml": Manifests.policy("dbp", target: "db", ports: [7070], sources: ["other"])])
        try harness.waitApplied()
        usleep(500_000)
        creat(stop, 0o600)
        #expect(ghost.finish().lines == ["alive ghost"])
        creat(setup.stop, 0o600)
        _ = setup.frontend.finish(); _ = setup.other.finish()
    }

    /// A server that called listen() with a backlog of 0 accepts
    /// connections that look like connect()ed ones by their backlog; judged
    /// as backend -> frontend:<ephemeral port>, frontend's deny would cut
    /// them. The listener on their port says they were accepted: kept.
    @Test func acceptedSocketsOfAZeroBacklogListenerAreJudgedAsAccepted() throws {
        let setup = try Self.start()
        let harness = setup.harness
        defer { harness.tearDown() }
        try harness.write(["web2.yaml": Manifests.policy("web2", target: "backend", ports: [8081], sources: ["frontend"])])
        try harness.waitApplied()
        let server = try harness.sandbox.session(cgroup: harness.cgroup("backend"), namespace: harness.servers,
                                               ["echo-backlog0", "10.201.0.2", "8081"])
        _ = server.nextLine()
        guard server.nextLine() == "ready" else { throw CommandError(message: "backlog-0 server did not start") }
        let stop = harness.directory + "/stop-backlog0"
        let held = try harness.sandbox.session(cgroup: harness.cgroup("frontend"), namespace: harness.clients,
                                             ["hold", "10.201.0.1", stop, "zero,tcp,10.201.0.2,8081"])
        _ = held.nextLine()
        guard held.nextLine() == "ready" else { throw CommandError(message: "no connection to the backlog-0 server") }
        // A change that revokes something else: every socket is judged again.
        try harness.write(Self.policies(web: ["other"], dns: ["frontend", "other"]))
        try harness.waitApplied()
        usleep(300_000)
        creat(stop, 0o600)
        #expect(held.finish().lines == ["alive zero"], "\(harness.log)")
        creat(setup.stop, 0o600)
        _ = setup.frontend.finish(); _ = setup.other.finish()
    }

    /// A kernel without bpf_sock_destroy (its BTF stood in by a file that
    /// lacks the name): the agent enforces as before, says why it cannot
    /// revoke, and open connections stay open.
    @Test func withoutSocketDestructionNothingFailsAndStatusSaysWhy() throws {
        let btf = "/tmp/podgate-test-btf-\(getpid())"
        try Data("no such kfunc here\0".utf8).write(to: URL(fileURLWithPath: btf))
        defer { unlink(btf) }
        let setup = try Self.start(environment: ["PODGATE_TEST_KERNEL_BTF": btf])
        let harness = setup.harness
        defer { harness.tearDown() }
        let status = try Self.status(harness)
        #expect(status.contains("revocation: unavailable: the kernel") && status.contains("has no bpf_sock_destroy()"), "\(status)")
        try Self.expectHeldOpenAfterRevoking(setup)
    }

    @Test func revokeEstablishedFalseKeepsThemOpen() throws {
        let setup = try Self.start(["--revoke-established=false"])
        let harness = setup.harness
        defer { harness.tearDown() }
        #expect(try Self.status(harness).contains("revocation: off (--revoke-established=false)"))
        try Self.expectHeldOpenAfterRevoking(setup)
    }

    /// Takes frontend's access away while revocation cannot (or must not)
    /// act: its held connections stay open, new ones are refused all the same.
    static func expectHeldOpenAfterRevoking(_ setup: Setup) throws {
        let harness = setup.harness
        try harness.write(Self.policies(web: ["other"], dns: ["other"]))
        try harness.waitApplied()
        usleep(500_000)
        creat(setup.stop, 0o600)
        let frontend = setup.frontend.finish().lines
        #expect(["alive admin", "alive dns", "alive web"].allSatisfy(frontend.contains), "\(frontend)")
        let again = try harness.sandbox.session(cgroup: harness.cgroup("frontend"), namespace: harness.clients,
                                              ["connect-once", "10.201.0.1", "10.201.0.2", "8080"]).finish().lines
        #expect(again.contains("EPERM"), "new connections are refused as before: \(again)")
    }

    /// The figures of the issue's closing note: change-to-cut over 50
    /// revocations (median, worst), and connections cut that both states
    /// allow (must be zero). Prints; asserts only correctness.
    @Test func fiftyRevocations() throws {
        let setup = try Self.start()
        let harness = setup.harness
        defer { harness.tearDown() }
        var latencies: [Double] = []
        var missed = 0
        for round in 1...50 {
            let p = try harness.sandbox.session(cgroup: harness.cgroup("frontend"), namespace: harness.clients,
                                              ["hold", "10.201.0.1", setup.stop + "-\(round)", "web,tcp,10.201.0.2,8080"])
            _ = p.nextLine()
            let ready = p.nextLine()
            guard ready == "ready" else {
                throw CommandError(message: "round \(round): no connection (\(ready ?? "no output")); status:\n\((try? Self.status(harness)) ?? "-")\nagent log:\n\(harness.log.suffix(3000))")
            }
            let changed = Self.monotonic()
            try harness.write(Self.policies(web: ["other"], dns: ["frontend", "other"]))
            let cut = Self.cuts(p, expecting: ["web"], timeout: 5)
            if let t = cut["web"] { latencies.append((t - changed) * 1000) } else { missed += 1 }
            try harness.waitApplied()
            creat(setup.stop + "-\(round)", 0o600)
            _ = p.finish()
            try harness.write(Self.policies(web: ["frontend", "other"], dns: ["frontend", "other"]))
            try harness.waitApplied()
        }
        creat(setup.stop, 0o600)
        let frontend = setup.frontend.finish().lines
        let other = setup.other.finish().lines
        // frontend's first 8080 connection is revoked in round 1, as it should be.
        let wronglyCut = (frontend + other).filter { $0.hasPrefix("cut ") } .filter { !frontend.contains($0) || !$0.hasPrefix("cut web ") }
        latencies.sort()
        let median = latencies.isEmpty ? 0 : latencies[latencies.count / 2]
        print(String(format: "revocation figures: %d revocations, change to cut median %.1f ms, worst %.1f ms, missed %d; connections both states allow that were cut: %d",
                     latencies.count, median, latencies.last ?? 0, missed, wronglyCut.count))
        #expect(missed == 0)
        #expect(wronglyCut.isEmpty, "\(wronglyCut)")
    }
}
