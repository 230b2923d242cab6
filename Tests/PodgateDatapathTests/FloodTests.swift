import Foundation
import PodgateModel
import PodgateTestSupport
import PodgateCgroups
import Testing
@testable import PodgateDatapath

/// A flood of denied connections from a simulated pod, against the real
/// agent: the kernel's decision counters are exact, the event stream
/// accounts for every refusal (emitted, lost in the kernel, or deduplicated
/// as a retransmit), and the agent's memory stays bounded.
/// `FLOOD_SIZE` (default 200000) sets the number of denied connects; the raw
/// SYN part is a tenth of it.
@Suite(.serialized, .kernel)
struct FloodTests {
    static var size: Int { ProcessInfo.processInfo.environment["FLOOD_SIZE"].flatMap { Int($0) } ?? 200_000 }

    static func rssKiB(_ pid: Int32) -> Int {
        let text = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
        let line = text.split(separator: "\n").first { $0.hasPrefix("VmRSS:") } ?? ""
        return Int(line.split(separator: " ").dropFirst().first ?? "") ?? -1
    }

    static func metric(_ harness: AgentHarness, _ name: String) -> Int? {
        guard let address = try? String(contentsOfFile: AgentDefaults.healthAddressFile(stateDirectory: harness.state), encoding: .utf8) else { return nil }
        let curl = Process()
        curl.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        curl.arguments = ["curl", "-s", "--max-time", "5", "http://\(address.trimmingCharacters(in: .whitespacesAndNewlines))/metrics"]
        let output = Pipe()
        curl.standardOutput = output
        guard (try? curl.run()) != nil else { return nil }
        let data = output.fileHandleForReading.readDataToEndOfFile()
        curl.waitUntilExit()
        let line = String(decoding: data, as: UTF8.self).split(separator: "\n").first { $0.hasPrefix(name + " ") }
        return line.flatMap { Int($0.split(separator: " ").last ?? "") }
    }

    /// Events in the events file, by `where`.
    static func events(_ harness: AgentHarness) -> [String: Int] {
        var result: [String: Int] = [:]
        for record in EventsFile.records(harness.directory + "/events.jsonl") { result[record.where.rawValue, default: 0] += 1 }
        return result
    }

    static func sum(_ counters: DatapathCounters, _ location: DatapathEvent.Location, _ verdict: DatapathEvent.Verdict) -> UInt64 {
        counters.decisions.filter { $0.key.location == location && $0.key.verdict == verdict }.values.reduce(0, +)
    }

    // Async, sleeping without blocking a thread: other suites share the
    // cooperative pool (one thread per core).
    @Test func deniedFloodKeepsCountersExactEventsHonestAndMemoryBounded() async throws {
        let size = Self.size, synSize = Self.size / 10, synPorts = 500
        let harness = try AgentHarness()
        defer { harness.tearDown() }
        for pod in ["frontend", "other", "backend"] { try harness.makePodCgroup(pod) }
        try harness.write(AgentLifecycleTests.basePods.merging(["policy.yaml": Manifests.policy("p", target: "backend", ports: [8080], sources: ["frontend"])]) { $1 })
        try harness.startAgent()
        try await harness.waitAppliedAsync()
        try harness.server("backend", address: "10.201.0.2", ports: [8080])
        let pid = harness.agent!.processID
        let maps = try DatapathMaps(pinDirectory: harness.sandbox.pinDirectory)

        func flood(_ count: Int) async throws -> String {
            let flood = try harness.sandbox.lab.podgate(["sim-helper", "flood", "--cgroup", harness.cgroup("other"), "--netns", harness.clients,
                                                         "--to", "10.201.0.2", "--port", "8080", "--rate", "0", "--seconds", "600", "--count", "\(count)"])
            return try await flood.finishedAsync().lines.joined(separator: "\n")  // one line
        }
        func settle(_ done: () throws -> Bool) async throws {
            let deadline = Date().addingTimeInterval(30)
            while try !done() && Date() < deadline { try await Task.sleep(for: .milliseconds(50)) }
        }

        // Warm-up (the event path's first allocations), then the baseline.
        _ = try await flood(2000)
        try await settle { Self.events(harness)["client"] ?? 0 >= 1 }
        try await Task.sleep(for: .milliseconds(500))
        let rssBefore = Self.rssKiB(pid)
        let before = try maps.counters()
        let eventsBefore = Self.events(harness)
        let emittedBefore = Self.metric(harness, "podgate_events_emitted_total")

        // 1. Denied connects from a pod: refused at the client, each one an event.
        let started = Date()
        let output = try await flood(size)
        let floodSeconds = Date().timeIntervalSince(started)
        #expect(output.contains("attempted \(size) refused \(size) "), "\(output)")
        var afterClient = try maps.counters()
        let clientDenied = Self.sum(afterClient, .client, .denied) - Self.sum(before, .client, .denied)
        #expect(clientDenied == UInt64(size), "client-side refusals counted: \(clientDenied) of \(size)")
        #expect(Self.sum(afterClient, .client, .allowed) == Self.sum(before, .client, .allowed))
        try await settle {
            let lost = try maps.counters().eventsLost - before.eventsLost
            return (Self.events(harness)["client"] ?? 0) - (eventsBefore["client"] ?? 0) + Int(lost) >= size
        }
        afterClient = try maps.counters()
        let clientEvents = (Self.events(harness)["client"] ?? 0) - (eventsBefore["client"] ?? 0)
        let clientLost = Int(afterClient.eventsLost - before.eventsLost)
        #expect(clientEvents + clientLost == size, "client: \(clientEvents) events + \(clientLost) lost != \(size) refusals")
        let rssAfterClient = Self.rssKiB(pid)

        // 2. Raw SYNs (no pod cgroup: only the server judges them) from a
        // known pod's address, cycling over a few source ports: every SYN is
        // counted, the first of each flow reported, the retransmits deduplicated.
        let raw = try await harness.sandbox.session(cgroup: nil, namespace: harness.clients,
                                            ["raw-flood", "10.201.0.3", "10.201.0.2", "8080", "\(synSize)", "\(synPorts)"]).finishedAsync()
        #expect(raw.lines == ["sent \(synSize)"], "\(raw.lines)")
        try await settle {
            let now = try maps.counters()
            let reported = (Self.events(harness)["server"] ?? 0) - (eventsBefore["server"] ?? 0)
            return reported + Int(now.eventsLost - afterClient.eventsLost) + Int(now.eventsDeduplicated - before.eventsDeduplicated) >= synSize
                && Self.sum(now, .server, .denied) - Self.sum(before, .server, .denied) >= UInt64(synSize)
        }
        try await Task.sleep(for: .milliseconds(500))
        let after = try maps.counters()
        let serverDenied = Self.sum(after, .server, .denied) - Self.sum(before, .server, .denied)
        let serverEvents = (Self.events(harness)["server"] ?? 0) - (eventsBefore["server"] ?? 0)
        let serverLost = Int(after.eventsLost - afterClient.eventsLost)
        let deduped = Int(after.eventsDeduplicated - before.eventsDeduplicated)
        #expect(serverDenied == UInt64(synSize), "server-side refusals counted: \(serverDenied) of \(synSize)")
        #expect(serverEvents + serverLost + deduped == synSize,
                "server: \(serverEvents) events + \(serverLost) lost + \(deduped) deduplicated != \(synSize)")
        #expect(serverEvents + serverLost >= synPorts, "each flow is reported (or counted lost) at least once")
        #expect(Self.sum(after, .server, .allowed) == Self.sum(before, .server, .allowed))

        // The agent's own figures agree: everything it read was emitted.
        let emittedAfter = Self.metric(harness, "podgate_events_emitted_total")
        if let emittedBefore, let emittedAfter {
            #expect(emittedAfter - emittedBefore == clientEvents + serverEvents)
        } else {
            Issue.record("no /metrics")
        }
        #expect(Self.metric(harness, "podgate_events_lost_total{where=\"kernel\"}") == Int(after.eventsLost))

        let rssAfter = Self.rssKiB(pid)
        print("flood: \(size) denied connects in \(String(format: "%.1f", floodSeconds)) s (\(output.trimmingCharacters(in: .whitespacesAndNewlines))); "
              + "client counted \(clientDenied), events \(clientEvents) + lost \(clientLost); "
              + "\(synSize) raw SYNs over \(synPorts) flows: server counted \(serverDenied), events \(serverEvents) + lost \(serverLost) + deduplicated \(deduped); "
              + "agent VmRSS \(rssBefore) KiB before, \(rssAfterClient) KiB after the connects, \(rssAfter) KiB at the end")
        #expect(rssBefore > 0 && rssAfter > 0)
        #expect(rssAfter - rssBefore < 64 * 1024, "the agent grew by \(rssAfter - rssBefore) KiB")
        #expect(harness.agent?.isRunning == true)
    }
}
