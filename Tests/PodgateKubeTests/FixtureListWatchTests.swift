import Foundation
import Testing
import PodgateTestSupport
import PodgateModel
@testable import PodgateKube
import PodgateKubeFixtures

/// ListWatch against the stateful fixture server (written from the API
/// concepts page): what the agent holds after each way a real server answers.
@Suite(.serialized) struct FixtureListWatchTests {
    static func pod(_ name: String, ip: String? = "10.244.1.7") -> String {
        // No uid and no resourceVersion: the server fills them in.
        Fixtures.podJSON(name, uid: "", resourceVersion: "", ip: ip).replacingOccurrences(of: #","uid":"""#, with: "")
    }

    static func cluster(_ names: [String]) throws -> FixtureCluster {
        try FixtureCluster(objects: [KubeResource.pods.path: names.map { pod($0) }])
    }

    /// Runs a pods ListWatch against `cluster` until `done` holds (or 60 s), then stops it.
    static func run(_ cluster: FixtureCluster, settings: ListWatch.Settings = ListWatchServerTests.fast,
                    timeouts: HTTPTimeouts = HTTPTimeouts(stallSeconds: 30),
                    during: @escaping @Sendable (Recorder) async throws -> Void = { _ in },
                    until done: @escaping @Sendable (Recorder) -> Bool) async throws -> Recorder {
        let recorder = Recorder()
        let listWatch = ListWatch(client: HTTPClient(config: KubeConfig(server: cluster.url), timeouts: timeouts),
                                  resource: .pods, settings: settings)
        let task = Task(executorPreference: ThreadExecutor.shared) { await listWatch.run(onChange: recorder.change, onReport: recorder.report) }
        defer { task.cancel() }
        // The changes, the wait and the stop run on that thread too: a test body held
        // off the cooperative pool must not let the watch run on past its condition.
        try await Task(executorPreference: ThreadExecutor.shared) {
            defer { task.cancel() }
            try await during(recorder)
            let deadline = ContinuousClock.now + .seconds(60)
            while !done(recorder), ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
            task.cancel()
            await task.value
        }.value
        #expect(done(recorder), "gave up; requests: \(cluster.received.map { "\($0.path)?\($0.query)" }), reports: \(recorder.reports)")
        return recorder
    }

    static func waitFor(_ seconds: Double = 30, _ condition: () -> Bool) async throws {
        let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
        while !condition(), ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
    }

    @Test func theFixtureAnswersLikeTheAPIServer() async throws {
        let cluster = try Self.cluster(["a", "b", "c"])
        defer { cluster.stop() }
        let client = HTTPClient(config: KubeConfig(server: cluster.url))
        let first = try await client.get("/api/v1/pods?limit=2")
        let list = try JSONDocument.parse(first.body)
        #expect(list["kind"]?.string == "PodList" && list["apiVersion"]?.string == "v1")
        let items = try #require(list["items"]?.list)
        #expect(items.count == 2)
        for item in items {
            #expect(item["kind"] == nil && item["apiVersion"] == nil, "a built-in list's items carry no type fields")
            #expect(item["metadata"]?["uid"]?.string?.isEmpty == false)
            #expect(item["metadata"]?["managedFields"]?.list?.isEmpty == false)
            #expect(item["metadata"]?["creationTimestamp"]?.string != nil)
            #expect(item["status"]?["qosClass"]?.string == "BestEffort")
        }
        let token = try #require(list["metadata"]?["continue"]?.string)
        #expect(list["metadata"]?["remainingItemCount"]?.integer == 1)
        let second = try JSONDocument.parse(try await client.get("/api/v1/pods?limit=2&continue=\(KubeResource.percentEncoded(token))").body)
        #expect(second["items"]?.list?.count == 1 && second["metadata"]?["continue"] == nil)
        #expect(second["metadata"]?["resourceVersion"] == list["metadata"]?["resourceVersion"], "every page is read at the first page's version")
        // A field selector the server does not support is a 400, as upstream.
        #expect(try await client.get("/api/v1/pods?fieldSelector=spec.schedulerName%3Dx").status == 400)
        let namespaces = try FixtureCluster(objects: [KubeResource.namespaces.path: [#"{"metadata":{"name":"shop"}}"#]])
        defer { namespaces.stop() }
        let namespace = try JSONDocument.parse(try await HTTPClient(config: KubeConfig(server: namespaces.url)).get("/api/v1/namespaces").body)
        #expect(namespace["items"]?.list?.first?["metadata"]?["labels"]?["kubernetes.io/metadata.name"]?.string == "shop")
    }

    @Test func pagesOfSeveralCollectionsListedAtOneVersionStayApart() async throws {
        let cluster = try Self.cluster(["a", "b", "c"])
        defer { cluster.stop() }
        let client = HTTPClient(config: KubeConfig(server: cluster.url))
        let first = try JSONDocument.parse(try await client.get("/api/v1/pods?limit=2").body)
        // Another collection listed at the same version, between two pages.
        _ = try await client.get("/api/v1/namespaces?limit=2")
        let token = try #require(first["metadata"]?["continue"]?.string)
        let second = try JSONDocument.parse(try await client.get("/api/v1/pods?limit=2&continue=\(KubeResource.percentEncoded(token))").body)
        #expect(second["items"]?.list?.count == 1)
    }

    @Test func listInPagesThenWatch() async throws {
        let cluster = try Self.cluster(["a", "b", "c", "d", "e"])
        defer { cluster.stop() }
        let recorder = try await Self.run(cluster, during: { _ in
            try await Self.waitFor { cluster.received.contains { $0.isWatch } }
            cluster.put(KubeResource.pods.path, Self.pod("f"))
            cluster.delete(KubeResource.pods.path, name: "a")
        }, until: { $0.names == ["b", "c", "d", "e", "f"] })
        let lists = cluster.received.filter { !$0.isWatch }
        #expect(lists.count == 3, "5 pods in pages of 2")
        #expect(lists.dropFirst().allSatisfy { $0.query["continue"] != nil })
        #expect(recorder.syncCount == 1 && recorder.lowWater == 5, "delivered whole, once")
    }

    @Test func anExpiredContinueTokenRestartsTheListFromTheFirstPage() async throws {
        let cluster = try Self.cluster(["a", "b", "c", "d", "e"])
        defer { cluster.stop() }
        // Driven by hand: page one, compaction, page two answers 410, a fresh list follows.
        let client = HTTPClient(config: KubeConfig(server: cluster.url))
        let first = try JSONDocument.parse(try await client.get("/api/v1/pods?limit=2").body)
        let token = try #require(first["metadata"]?["continue"]?.string)
        cluster.compact()
        let expired = try await client.get("/api/v1/pods?limit=2&continue=\(KubeResource.percentEncoded(token))")
        #expect(expired.status == 410)
        #expect(try JSONDocument.parse(expired.body)["reason"]?.string == "Expired")
        var machine = ListWatchMachine(resource: "pods", seed: 1)
        _ = machine.handle(.start)
        _ = machine.handle(.listed(try ListPage.decode(body: Array(Fixtures.listJSON(items: [], resourceVersion: "1", continueToken: token).utf8))))
        let actions = machine.handle(.listFailed(.status(410, message: "Expired")))
        #expect(actions.contains { if case .wait = $0 { true } else { false } }, "then a list from the first page")
    }

    @Test(arguments: [FixtureCluster.GoneForm.errorEvent, .httpStatus])
    func relistAfterGone(form: FixtureCluster.GoneForm) async throws {
        let cluster = try Self.cluster(["a", "b"])
        defer { cluster.stop() }
        cluster.setGoneForm(form)
        let recorder = try await Self.run(cluster, during: { recorder in
            try await Self.waitFor { recorder.syncCount == 1 && cluster.received.contains { $0.isWatch } }
            // History compacted; c created and b deleted meanwhile. An open
            // watch gets the ERROR event; with .httpStatus the stream is cut
            // first, and the new watch is refused with HTTP 410. (c before b:
            // if the watch delivers both events before the compaction, the
            // store holds 2 objects throughout, so lowWater 2 tests the relist.)
            cluster.put(KubeResource.pods.path, Self.pod("c"))
            cluster.delete(KubeResource.pods.path, name: "b")
            if form == .httpStatus { cluster.setStalled(true); try await Task.sleep(for: .milliseconds(50)) }
            cluster.compact()
            if form == .httpStatus { cluster.dropWatches(); cluster.setStalled(false) }
        }, until: { $0.syncCount == 2 && $0.names == ["a", "c"] })
        #expect(cluster.listCount(KubeResource.pods.path) == 2)
        #expect(recorder.reports.contains { $0.contains("410") && $0.contains("relisting") }, "\(recorder.reports)")
        #expect(recorder.lowWater == 2, "a relist never empties what is held")
        let versions = cluster.received.filter(\.isWatch).compactMap { $0.query["resourceVersion"].flatMap(Int.init) }
        #expect(versions == versions.sorted(), "versions asked for never go back")
    }

    @Test func aDroppedStreamResumesFromTheLastVersionWithoutARelist() async throws {
        let cluster = try Self.cluster(["a"])
        defer { cluster.stop() }
        let recorder = try await Self.run(cluster, during: { recorder in
            try await Self.waitFor { cluster.received.contains { $0.isWatch } }
            cluster.put(KubeResource.pods.path, Self.pod("b"))
            try await Self.waitFor { recorder.names.contains("b") }
            cluster.dropWatches()
            cluster.put(KubeResource.pods.path, Self.pod("c"))
        }, until: { $0.names == ["a", "b", "c"] })
        #expect(cluster.listCount(KubeResource.pods.path) == 1)
        #expect(recorder.syncCount == 1)
        #expect(cluster.received.filter(\.isWatch).count >= 2)
    }

    @Test func aWatchSilentPastTheBookmarkIntervalIsRestarted() async throws {
        let cluster = try Self.cluster(["a"])
        defer { cluster.stop() }
        // Bookmarks every 200 ms keep a quiet stream alive; a stalled one
        // (no bookmark for 1 s, past the interval) is cut and restarted.
        cluster.setBookmarkInterval(milliseconds: 200)
        let recorder = try await Self.run(cluster, timeouts: HTTPTimeouts(stallSeconds: 1), during: { recorder in
            try await Self.waitFor { cluster.received.contains { $0.isWatch } }
            // A write elsewhere moves the store's version: the next bookmark carries it.
            cluster.put(KubeResource.namespaces.path, #"{"metadata":{"name":"elsewhere"}}"#)
            try await Task.sleep(for: .milliseconds(1500))
            #expect(cluster.received.filter(\.isWatch).count == 1, "bookmarks alone keep a quiet watch open")
            cluster.setStalled(true)
            try await Self.waitFor { recorder.reports.contains { $0.contains("stalled") } }
            cluster.put(KubeResource.pods.path, Self.pod("b"))
            cluster.setStalled(false)
        }, until: { $0.names == ["a", "b"] })
        #expect(recorder.reports.contains { $0.contains("stalled stream") }, "\(recorder.reports)")
        #expect(cluster.listCount(KubeResource.pods.path) == 1, "resumed from the last version, no relist")
        let versions = cluster.received.filter(\.isWatch).compactMap { $0.query["resourceVersion"].flatMap(Int.init) }
        #expect(versions.count >= 2 && versions.last! > versions.first!, "resumed from a bookmark's version: \(versions)")
    }

    @Test func theServerEndsAWatchAtTimeoutSecondsAndTheClientResumes() async throws {
        let cluster = try Self.cluster(["a"])
        defer { cluster.stop() }
        cluster.setBookmarkInterval(milliseconds: 100)
        var settings = ListWatchServerTests.fast
        settings.watchTimeoutSeconds = 1...1
        let recorder = try await Self.run(cluster, settings: settings, during: { _ in
            try await Self.waitFor { cluster.received.filter(\.isWatch).count >= 3 }
        }, until: { _ in cluster.received.filter(\.isWatch).count >= 3 })
        #expect(cluster.listCount(KubeResource.pods.path) == 1)
        #expect(cluster.received.filter(\.isWatch).allSatisfy { $0.query["timeoutSeconds"] == "1" })
        #expect(recorder.syncCount == 1)
    }

    @Test func itemsNullIsAnEmptyList() throws {
        let page = try ListPage.decode(body: Array(#"{"kind":"PodList","apiVersion":"v1","metadata":{"resourceVersion":"5"},"items":null}"#.utf8))
        #expect(page.items.isEmpty && page.resourceVersion == "5")
    }

    @Test func aWatchFromZeroStartsWithTheCurrentObjectsAndTheSelectorFilters() async throws {
        let cluster = try FixtureCluster(objects: [KubeResource.pods.path: [
            Fixtures.podJSON("here", uid: "u1", resourceVersion: "", node: "worker-1"),
            Fixtures.podJSON("there", uid: "u2", resourceVersion: "", node: "worker-2"),
        ]])
        defer { cluster.stop() }
        let client = HTTPClient(config: KubeConfig(server: cluster.url))
        let lines = LockedLines()
        _ = try? await DedicatedThread.run { flag in
            try client.streamBlocking("/api/v1/pods?watch=1&resourceVersion=0&fieldSelector=spec.nodeName%3Dworker-1&timeoutSeconds=1",
                                      cancel: flag) { bytes in lines.append(String(decoding: bytes, as: UTF8.self)); return true }
        }
        let text = lines.text
        #expect(text.contains(#""name":"here""#) && !text.contains(#""name":"there""#), "\(text)")
        #expect(text.contains(#""type":"ADDED""#) && text.contains(#""kind":"Pod""#), "watch events carry the type fields")
    }
}

final class LockedLines: @unchecked Sendable {
    private let lock = NSLock()
    private var parts: [String] = []
    func append(_ text: String) { lock.withLock { parts.append(text) } }
    var text: String { lock.withLock { parts.joined() } }
}


/// What the cache keeps of a real object: every field a decision reads, nothing else.
@Suite struct ObjectTrimTests {
    @Test func aPodKeepsWhatTheDecoderReadsAndNothingElse() throws {
        let full = try JSONDocument.parse(Fixtures.podJSON("web", uid: "u-1", resourceVersion: "7")
            .replacingOccurrences(of: #""name":"web","#, with: #""name":"web","deletionTimestamp":"2024-05-02T10:12:12Z","managedFields":[{"manager":"kubectl"}],"annotations":{"config.linkerd.io/default-inbound-policy":"deny","kubectl.kubernetes.io/last-applied-configuration":"{}"},"#))
        let trimmed = KubeResource.pods.trimmed(full)
        #expect(trimmed["metadata"]?["managedFields"] == nil && trimmed["metadata"]?["ownerReferences"] == nil)
        #expect(trimmed["metadata"]?["annotations"]?["kubectl.kubernetes.io/last-applied-configuration"] == nil)
        #expect(trimmed["metadata"]?["annotations"]?["config.linkerd.io/default-inbound-policy"]?.string == "deny")
        for field in ["name", "namespace", "uid", "resourceVersion", "labels", "creationTimestamp", "deletionTimestamp"] {
            #expect(trimmed["metadata"]?[field] != nil, "metadata.\(field)")
        }
        #expect(trimmed["spec"]?["containers"]?.list?.first?["ports"] == full["spec"]?["containers"]?.list?.first?["ports"])
        #expect(trimmed["spec"]?["containers"]?.list?.first?["image"] == nil)
        #expect(trimmed["spec"]?["nodeName"]?.string == "worker-1" && trimmed["spec"]?["serviceAccountName"] != nil)
        #expect(trimmed["status"]?["podIPs"] != nil && trimmed["status"]?["phase"] != nil && trimmed["status"]?["conditions"] == nil)
        let policy = try JSONDocument.parse(Fixtures.policyJSON(uid: "u-2", resourceVersion: "8"))
        #expect(KubeResource.networkAuthenticationPolicies.trimmed(policy)["spec"] == policy["spec"], "a policy's spec is kept whole")
    }
}
