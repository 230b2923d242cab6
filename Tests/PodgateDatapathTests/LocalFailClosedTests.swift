import Foundation
import PodgateTestSupport
import Testing
@testable import PodgateDatapath

/// Issue 13 items 6-10 with the real agent in local mode: the manifest
/// directory is attacked the way a careless operator would (an enforced
/// policy file replaced by a dangling symlink, a loop, a directory, a FIFO;
/// rewritten in place with a pause; rewritten by `cat >`; shadowed by a
/// duplicate; edited into an invalid policy; an annotation typo) while two
/// probers run the whole time. Nothing allowed may fail and nothing denied may
/// get through; each attack is reported in the agent's problems.
@Suite(.serialized, .kernel)
struct LocalFailClosedTests {
    /// The policy with its `ports:` line last: enforced without it, it would mean every port.
    static let policy = """
        apiVersion: policy.linkerd.io/v1alpha1
        kind: NetworkAuthenticationPolicy
        metadata: {name: p, namespace: demo}
        spec:
          target: {selector: {matchLabels: {app: backend}}}
          sources: [{podSelector: {matchLabels: {app: frontend}}}]
          ports: [{port: 8080}]

        """

    static let phases = ["unreadable replacement", "new unreadable file", "rewrite with a pause", "cat >", "duplicate",
                         "unknown field", "annotation typo"]

    /// One kind of attack per case, so a failure names it.
    @Test(arguments: phases)
    func noFileOperationWidensOrCutsWhatIsEnforced(_ phase: String) throws {
        let harness = try AgentHarness()
        defer { harness.tearDown() }
        for pod in ["frontend", "other", "backend"] { try harness.makePodCgroup(pod) }
        let files = [
            "ns.yaml": Manifests.namespace(defaultPolicy: "deny"),
            "frontend.yaml": Manifests.pod("frontend", ip: "10.201.0.1", labels: ["app": "frontend"]),
            "other.yaml": Manifests.pod("other", ip: "10.201.0.3", labels: ["app": "other"]),
            "backend.yaml": Manifests.pod("backend", ip: "10.201.0.2", labels: ["app": "backend"], ports: [8080, 9090]),
            "policy.yaml": Self.policy,
        ]
        try harness.write(files)
        try harness.startAgent()
        try harness.waitApplied()
        try harness.server("backend", address: "10.201.0.2", ports: [8080, 9090])

        let stop = harness.directory + "/stop"
        // frontend: 8080 allowed by the policy, 9090 refused by the namespace's deny.
        let frontend = try harness.loop(from: "frontend", source: "10.201.0.1", to: "10.201.0.2", allowedPort: 8080, deniedPort: 9090, stopFile: stop)
        // other: 8080 is authorized-only for frontend.
        let other = try harness.loop(from: "other", source: "10.201.0.3", to: "10.201.0.2", allowedPort: 0, deniedPort: 8080, stopFile: stop)

        let path = harness.manifests + "/policy.yaml"
        var attempts = 0
        var missingReports: [String] = []
        /// A pass of the agent after the attack (a new generation), some probing, and the report.
        func settle(expecting report: String?) throws {
            try harness.write([:])
            try harness.waitApplied()
            usleep(300_000)
            attempts += 1
            if let report {
                // Both in `podgate status` and in the agent's problems (the log's copy).
                let status = (try? Command.run([AgentHarness.executable!, "status", "--state-dir", harness.state])) ?? ""
                let logged = (try? String(contentsOfFile: harness.state + "/problems", encoding: .utf8)) ?? ""
                for (place, text) in [("status", status), ("problems", logged)] {
                    // "a|b": either (the wording differs by kind).
                    if !report.split(separator: "|").contains(where: { text.contains($0) }) {
                        missingReports.append("\(place): \(report) not in: \(text)")
                    }
                }
            }
        }

        // Item 6: unreadable replacements, swapped in atomically (never a missing name).
        for kind in phase != "unreadable replacement" ? [] : ["dangling symlink", "symlink loop", "directory", "FIFO"] {
            let replacement = harness.manifests + "/.replacement"
            switch kind {
            case "dangling symlink": try FileManager.default.createSymbolicLink(atPath: replacement, withDestinationPath: "/nonexistent/podgate")
            case "symlink loop": try FileManager.default.createSymbolicLink(atPath: replacement, withDestinationPath: "policy.yaml")
            case "directory": try FileManager.default.createDirectory(atPath: replacement, withIntermediateDirectories: false)
            default: #expect(mkfifo(replacement, 0o600) == 0)
            }
            try PathExchange.swap(replacement, path)
            try settle(expecting: "policy.yaml: cannot be read|policy.yaml: is a ")
            if !((try? String(contentsOfFile: harness.state + "/problems", encoding: .utf8)) ?? "").contains("keeping its last good content") {
                missingReports.append("\(kind): no 'keeping its last good content'")
            }
            try PathExchange.swap(replacement, path)
            try FileManager.default.removeItem(atPath: replacement)
            try settle(expecting: nil)
        }
        // A new unreadable file is reported (and a FIFO never blocks the agent: the passes go on).
        if phase == "new unreadable file" {
            #expect(mkfifo(harness.manifests + "/zz-fifo.yaml", 0o600) == 0)
            try settle(expecting: "zz-fifo.yaml: is a FIFO, not a file; nothing from it is enforced")
            try FileManager.default.createDirectory(atPath: harness.manifests + "/zz-dir.yaml", withIntermediateDirectories: false)
            try settle(expecting: "zz-dir.yaml: is a directory, not a file; nothing from it is enforced")
            try FileManager.default.createSymbolicLink(atPath: harness.manifests + "/zz-loop.yaml", withDestinationPath: "zz-loop.yaml")
            try settle(expecting: "zz-loop.yaml: cannot be read: a symlink loop; nothing from it is enforced")
            for name in ["zz-fifo.yaml", "zz-dir.yaml", "zz-loop.yaml"] { try FileManager.default.removeItem(atPath: harness.manifests + "/" + name) }
        }

        // Item 7: truncate, write all but the `ports:` line, pause (the agent reads meanwhile), finish.
        for _ in 0..<(phase == "rewrite with a pause" ? 3 : 0) {
            let handle = try #require(FileHandle(forWritingAtPath: path))
            try handle.truncate(atOffset: 0)
            try settle(expecting: "policy.yaml: is being written; keeping its last good content")
            try handle.write(contentsOf: Data(Self.policy.components(separatedBy: "  ports:")[0].utf8))
            try settle(expecting: "policy.yaml: is being written")
            try handle.write(contentsOf: Data("  ports: [{port: 8080}]\n".utf8))
            try handle.close()
            try settle(expecting: nil)
        }
        // `cat new > policy.yaml`, the same content (2 MB of comments first, so
        // cat writes it in many chunks), again and again; then the same from a
        // slow producer (`{ ...; sleep; ...; } > policy.yaml`, as a generator writes).
        if phase == "cat >" {
            let padding = String(repeating: "# generated by a tool that writes a long header first\n", count: 40_000)
            try (padding + Self.policy).write(toFile: harness.directory + "/policy.src", atomically: true, encoding: .utf8)
            try padding.write(toFile: harness.directory + "/padding.src", atomically: true, encoding: .utf8)
            try Self.policy.write(toFile: harness.directory + "/body.src", atomically: true, encoding: .utf8)
            for _ in 0..<10 {
                _ = try Command.run(["sh", "-c", "cat \(harness.directory)/policy.src > \(path)"])
                try settle(expecting: nil)
            }
            for _ in 0..<5 {
                let slow = try Process.run(URL(fileURLWithPath: "/bin/sh"), arguments: ["-c",
                    "{ cat \(harness.directory)/padding.src; sleep 1.5; cat \(harness.directory)/body.src; } > \(path)"])
                usleep(200_000)
                try settle(expecting: "policy.yaml: is being written; keeping its last good content")
                slow.waitUntilExit()
                try settle(expecting: nil)
            }
        }

        // Item 8: a duplicate in a file that sorts first (every port, for other) is ignored.
        if phase == "duplicate" {
        try harness.write(["a-duplicate.yaml": Self.policy.replacingOccurrences(of: "app: frontend", with: "app: other")
            .replacingOccurrences(of: "  ports: [{port: 8080}]\n", with: "")])
        try settle(expecting: "which is enforced; this one is ignored")
        unlink(harness.manifests + "/a-duplicate.yaml")
        }

        // Items 9 and 10: `prots` makes the edit invalid; the last valid version stays.
        if phase == "unknown field" {
            try harness.write(["policy.yaml": Self.policy.replacingOccurrences(of: "  ports:", with: "  prots:")])
            try settle(expecting: "spec.prots is not a field of NetworkAuthenticationPolicy (did you mean ports?); its last valid version stays enforced")
        }
        // An annotation typo counts as deny (not the agent's all-unauthenticated).
        if phase == "annotation typo" {
            try harness.write(["ns.yaml": Manifests.namespace(defaultPolicy: "denny")])
            try settle(expecting: "\"denny\" is not a default inbound policy")
        }
        try harness.write(files)
        try settle(expecting: nil)

        creat(stop, 0o600)
        let frontendLines = frontend.finish().lines, otherLines = other.finish().lines
        let f = AgentHarness.summary(frontendLines), o = AgentHarness.summary(otherLines)
        print("local fail-closed, \(phase): \(attempts) agent passes; frontend \(frontendLines.first ?? "-"); other \(otherLines.first ?? "-")")
        #expect(missingReports.isEmpty, "\(missingReports)")
        #expect(f["allowed_fail"] == 0, "\(frontendLines)")
        #expect(f["denied_leaked"] == 0, "\(frontendLines)")
        #expect(o["denied_leaked"] == 0, "\(otherLines)")
        #expect((f["allowed_ok"] ?? 0) >= 100 && (o["denied_blocked"] ?? 0) >= 100, "\(frontendLines) \(otherLines)")
    }

}
