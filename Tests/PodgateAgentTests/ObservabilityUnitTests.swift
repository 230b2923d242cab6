import Foundation
import Testing
import PodgateCLI
import PodgateCompiler
import PodgateDatapath
@testable import PodgateAgent
import PodgateModel

func sampleRecord(_ n: Int = 0, verdict: EventRecord.Verdict = .denied, where side: EventRecord.Side = .client, src: String? = "demo/frontend",
                  dst: String? = "demo/backend", port: Int = 8080) -> EventRecord {
    EventRecord(time: "t\(n)", node: "a", where: side, verdict: verdict, reason: .defaultDeny, protocol: "TCP",
                src: "10.0.0.1", srcPort: n, dst: "10.0.0.2", dstPort: port, srcPod: src, srcKind: .pod, dstPod: dst,
                policies: [], pid: nil, comm: nil)
}

@Suite struct EventFilterTests {
    @Test func filtersByVerdictSidePortNamespaceAndPod() {
        let record = sampleRecord()
        #expect(EventFilter().matches(record))
        #expect(EventFilter(verdict: .denied, where: .client, port: 8080).matches(record))
        #expect(!EventFilter(verdict: .audit).matches(record))
        #expect(!EventFilter(where: .server).matches(record))
        #expect(!EventFilter(port: 80).matches(record))
        #expect(EventFilter(namespace: "demo").matches(record))
        #expect(!EventFilter(namespace: "other").matches(record))
        #expect(EventFilter(pod: "backend").matches(record))
        #expect(EventFilter(pod: "demo/frontend").matches(record))
        #expect(EventFilter(namespace: "demo", pod: "backend").matches(record))
        #expect(!EventFilter(namespace: "x", pod: "backend").matches(record))
        #expect(!EventFilter(pod: "web").matches(sampleRecord(src: nil, dst: nil)))
    }
}

@Suite struct EventHubTests {
    @Test func everySubscriberSeesEveryEvent() {
        let hub = EventHub()
        let (first, _) = hub.subscribe(filter: EventFilter(), sinceSeconds: nil, queueLimit: 100)
        let (second, _) = hub.subscribe(filter: EventFilter(), sinceSeconds: nil, queueLimit: 100)
        for n in 0..<10 { hub.publish(sampleRecord(n)) }
        for subscriber in [first, second] {
            let got = (0..<10).compactMap { _ in subscriber.next(timeout: 0.1) }
            #expect(got == (0..<10).map { .event(sampleRecord($0)) })
            #expect(subscriber.next(timeout: 0.01) == nil)
        }
        #expect(hub.emitted == 10)
        #expect(hub.subscriberCount == 2)
        hub.unsubscribe(first)
        #expect(hub.subscriberCount == 1)
    }

    @Test func aSlowSubscriberSkipsWithACountAtTheGapAndOthersAreUnaffected() {
        let hub = EventHub()
        let (slow, _) = hub.subscribe(filter: EventFilter(), sinceSeconds: nil, queueLimit: 3)
        let (fast, _) = hub.subscribe(filter: EventFilter(), sinceSeconds: nil, queueLimit: 100)
        for n in 0..<8 { hub.publish(sampleRecord(n)) }
        let got = (0..<4).compactMap { _ in slow.next(timeout: 0.1) }
        #expect(got == [.event(sampleRecord(0)), .event(sampleRecord(1)), .event(sampleRecord(2)), .skipped(5)])
        hub.publish(sampleRecord(9))
        #expect(slow.next(timeout: 0.1) == .event(sampleRecord(9)))
        #expect((0..<8).compactMap { _ in fast.next(timeout: 0.1) }.count == 8)
        #expect(hub.skipped == 5)
    }

    @Test func sinceReplaysMatchingHistoryBoundedToTheNewest() {
        let hub = EventHub(historyLimit: 5)
        for n in 0..<8 { hub.publish(sampleRecord(n, port: n % 2 == 0 ? 80 : 81)) }
        let (all, replayed) = hub.subscribe(filter: EventFilter(), sinceSeconds: 60, queueLimit: 10)
        #expect(replayed == 5)
        #expect((0..<5).compactMap { _ in all.next(timeout: 0.1) } == (3..<8).map { .event(sampleRecord($0, port: $0 % 2 == 0 ? 80 : 81)) })
        let (even, evenCount) = hub.subscribe(filter: EventFilter(port: 80), sinceSeconds: 60, queueLimit: 10)
        #expect(evenCount == 2)
        #expect(even.next(timeout: 0.1) == .event(sampleRecord(4, port: 80)))
        let (none, noneCount) = hub.subscribe(filter: EventFilter(), sinceSeconds: nil, queueLimit: 10)
        #expect(noneCount == 0)
        #expect(none.next(timeout: 0.01) == nil)
    }

    @Test func publishingNeverWaitsForAReader() {
        let hub = EventHub()
        let (_, _) = hub.subscribe(filter: EventFilter(), sinceSeconds: nil, queueLimit: 10)
        let start = Date()
        for n in 0..<100_000 { hub.publish(sampleRecord(n)) }
        #expect(Date().timeIntervalSince(start) < 5)
        #expect(hub.skipped == 100_000 - 10)
    }
}

@Suite struct MetricsTextTests {
    @Test func histogramBucketsAreCumulative() {
        var histogram = Histogram(bounds: [0.001, 0.01, 0.1])
        histogram.observe(0.0005)
        histogram.observe(0.005)
        histogram.observe(1)
        #expect(histogram.counts == [1, 2, 2])
        #expect(histogram.count == 3)
    }

    @Test func rendersEveryFamilyInTheTextFormat() {
        var counters = DatapathCounters()
        counters.decisions[.init(location: .client, verdict: .denied, reason: .defaultDeny)] = 7
        counters.eventsLost = 3
        var compile = Histogram(bounds: [0.001, 0.01])
        compile.observe(0.002)
        let text = MetricsText.render(MetricsInput(
            counters: counters, eventsEmitted: 5, eventsSkipped: 2,
            maps: [StatusReport.MapFill(map: "podgate_policy", entries: 4, capacity: 524288)],
            compileSeconds: compile, mapWriteSeconds: Histogram(), lastSyncUnixSeconds: 1700000000.5, invalidPolicies: 1, ready: true))
        #expect(text.contains("# TYPE podgate_connections_total counter\n"))
        #expect(text.contains("podgate_connections_total{direction=\"client\",verdict=\"denied\",reason=\"default-deny\"} 7\n"))
        #expect(text.contains("podgate_events_emitted_total 5\n"))
        #expect(text.contains("podgate_events_lost_total{where=\"kernel\"} 3\n"))
        #expect(text.contains("podgate_events_lost_total{where=\"subscriber\"} 2\n"))
        #expect(text.contains("podgate_map_entries{map=\"podgate_policy\"} 4\n"))
        #expect(text.contains("podgate_map_capacity{map=\"podgate_policy\"} 524288\n"))
        #expect(text.contains("podgate_policy_compile_seconds_bucket{le=\"0.001\"} 0\n"))
        #expect(text.contains("podgate_policy_compile_seconds_bucket{le=\"0.01\"} 1\n"))
        #expect(text.contains("podgate_policy_compile_seconds_bucket{le=\"+Inf\"} 1\n"))
        #expect(text.contains("podgate_policy_compile_seconds_count 1\n"))
        #expect(text.contains("podgate_last_sync_timestamp_seconds 1700000000.5\n"))
        #expect(text.contains("podgate_invalid_policies 1\n"))
        #expect(text.contains("podgate_ready 1\n"))
        // Every sample line belongs to a family declared before it.
        var declared = Set<String>()
        for line in text.split(separator: "\n") {
            if line.hasPrefix("# TYPE ") { declared.insert(String(line.split(separator: " ")[2])) } else if !line.hasPrefix("#") {
                let name = String(line.prefix { $0 != "{" && $0 != " " })
                #expect(declared.contains { name == $0 || name.hasPrefix($0 + "_") }, "\(name) has no # TYPE")
            }
        }
    }
}

@Suite struct FormattingTests {
    @Test func durations() throws {
        #expect(try DurationText.seconds("30s") == 30)
        #expect(try DurationText.seconds("5m") == 300)
        #expect(try DurationText.seconds("1h30m") == 5400)
        #expect(try DurationText.seconds("250ms") == 0.25)
        #expect(try DurationText.seconds("12") == 12)
        #expect(throws: UsageError.self) { try DurationText.seconds("5x") }
        #expect(throws: UsageError.self) { try DurationText.seconds("") }
        #expect(throws: UsageError.self) { try DurationText.seconds("-1s") }
    }

    @Test func tablesAlignAndKeyJSONByColumn() {
        let table = Table(title: "t", columns: ["target class", "hits"], rows: [[.number(1), .number(12)], [.text("long value"), .none]])
        #expect(table.render() == "TARGET CLASS  HITS\n1             12\nlong value    -\n")
        #expect(table.objects[0]["targetClass"] == .number(1))
        #expect(Table(title: "e", columns: ["a"]).render() == "A\n(none)\n")
    }

    @Test func healthAddressParsing() {
        #expect(HealthServer.parse("127.0.0.1:9808").map { "\($0.0):\($0.1)" } == "127.0.0.1:9808")
        #expect(HealthServer.parse("[::1]:0").map { "\($0.0) \($0.1)" } == "::1 0")
        #expect(HealthServer.parse("localhost:80") == nil)
        #expect(HealthServer.parse("1.2.3.4") == nil)
    }
}

@Suite struct ExplainerTests {
    static func state(withPolicy: Bool) -> PublishedState {
        var snapshot = ClusterSnapshot()
        snapshot.namespaces["demo"] = Namespace(name: "demo", defaultInboundPolicy: "deny")
        for (name, address) in [("frontend", "10.244.0.2"), ("backend", "10.244.0.3")] {
            let pod = Pod(namespace: "demo", name: name, labels: ["app": name], addresses: [IPAddress(address)!])
            snapshot.pods[pod.ref] = pod
        }
        if withPolicy {
            let policy = Policy(namespace: "demo", name: "frontend-can-talk-to-backend", target: LabelSelector(matchLabels: ["app": "backend"]),
                                ports: [PolicyPort(port: .number(8080, endPort: nil))],
                                sources: [PolicySource(podSelector: LabelSelector(matchLabels: ["app": "frontend"]))])
            snapshot.policies[policy.ref] = policy
        }
        let settings = AgentSettings(nodeName: "a")
        let cgroups = [PodRef(namespace: "demo", name: "frontend"): CgroupID(100), PodRef(namespace: "demo", name: "backend"): CgroupID(200)]
        let compilation = PolicyCompiler.compile(snapshot, settings: settings, localCgroups: cgroups, previous: Allocation())
        return PublishedState(snapshot: snapshot, compilation: compilation, settings: settings, diagnostics: [], lastSync: [:], lastSyncUnixSeconds: 0)
    }

    @Test func explainsAPolicyRefusalWithTheNearestMissAndAgreesWithMaps() throws {
        let state = Self.state(withPolicy: true)
        let denied = try Explainer.explain(ExplainQuery(from: "demo/backend", to: "demo/backend", port: 9000), state: state, realized: state.compilation.state)
        #expect(denied.verdict == "allowed")  // a pod reaching itself
        let miss = try Explainer.explain(ExplainQuery(from: "demo/frontend", to: "demo/backend", port: 9000), state: state, realized: state.compilation.state)
        #expect(miss.verdict == "denied")
        #expect(miss.defaultPolicy == "deny")
        #expect(miss.defaultPolicyOrigin == "annotation on namespace demo")
        #expect(miss.nearestMiss == ["demo/frontend-can-talk-to-backend allows TCP/8080 from pods app=frontend in demo"])
        #expect(miss.agreesWithKernel == true)
        let allowed = try Explainer.explain(ExplainQuery(from: "demo/frontend", to: "demo/backend", port: 8080), state: state, realized: state.compilation.state)
        #expect(allowed.verdict == "allowed")
        #expect(allowed.matchedPolicy == "demo/frontend-can-talk-to-backend")
        #expect(allowed.kernelServer?.policy == "demo/frontend-can-talk-to-backend")
        #expect(allowed.agreesWithKernel == true)
    }

    @Test func reportsStaleMapsAsADisagreement() throws {
        let stale = Self.state(withPolicy: false).compilation.state
        let explanation = try Explainer.explain(ExplainQuery(from: "demo/frontend", to: "demo/backend", port: 8080),
                                                state: Self.state(withPolicy: true), realized: stale)
        #expect(explanation.verdict == "allowed")
        #expect(explanation.kernelServer?.verdict == "denied")
        #expect(explanation.agreesWithKernel == false)
    }

    @Test func rejectsUnknownPodsWithTheFlagName() {
        let state = Self.state(withPolicy: false)
        #expect(throws: AgentError.self) { try Explainer.explain(ExplainQuery(from: "demo/nope", to: "demo/backend", port: 1), state: state, realized: nil) }
        #expect(throws: AgentError.self) { try Explainer.explain(ExplainQuery(from: "demo/frontend", to: "backend", port: 1), state: state, realized: nil) }
    }
}
