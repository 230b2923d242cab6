import Testing
import PodgateModel
@testable import PodgateKube

@Suite struct ListWatchMachineTests {
    typealias M = ListWatchMachine
    static let noJitter = BackoffPolicy(initialMilliseconds: 100, maximumMilliseconds: 1_000, jitter: 0)

    func listed(_ machine: inout M, rv: String = "100", pods: [(String, String)] = [("a", "u-a")]) throws -> [M.Action] {
        let items = try pods.map { try Fixtures.pod($0.0, uid: $0.1, resourceVersion: "90") }
        return machine.handle(.listed(ListPage(items: items, resourceVersion: rv)))
    }

    func started() throws -> M {
        var machine = M(resource: "pods", backoff: Self.noJitter, seed: 1)
        #expect(machine.handle(.start) == [.list(continueToken: nil)])
        return machine
    }

    static func waits(_ actions: [M.Action]) -> [Int] {
        actions.compactMap { if case let .wait(ms) = $0 { ms } else { nil } }
    }

    static func emits(_ actions: [M.Action]) -> [ResourceChange] {
        actions.compactMap { if case let .emit(change) = $0 { change } else { nil } }
    }

    @Test func listThenWatchFromTheListVersion() throws {
        var machine = try started()
        let actions = try listed(&machine, rv: "100")
        let pod = try Fixtures.pod("a", uid: "u-a", resourceVersion: "90")
        #expect(actions == [.emit(.synced([Fixtures.key("a", uid: "u-a"): pod])), .watch(resourceVersion: "100")])
        #expect(machine.resourceVersion == "100")
    }

    @Test func paginatedListIsDeliveredWholeOnce() throws {
        var machine = try started()
        let a = try Fixtures.pod("a", uid: "u-a", resourceVersion: "90")
        let b = try Fixtures.pod("b", uid: "u-b", resourceVersion: "95")
        #expect(machine.handle(.listed(ListPage(items: [a], resourceVersion: "100", continueToken: "tok1"))) == [.list(continueToken: "tok1")])
        #expect(machine.handle(.listed(ListPage(items: [b], resourceVersion: "100"))) ==
                [.emit(.synced([Fixtures.key("a", uid: "u-a"): a, Fixtures.key("b", uid: "u-b"): b])), .watch(resourceVersion: "100")])
    }

    @Test func failedPageRestartsTheListFromTheFirstPage() throws {
        var machine = try started()
        let a = try Fixtures.pod("a", uid: "u-a", resourceVersion: "90")
        _ = machine.handle(.listed(ListPage(items: [a], resourceVersion: "100", continueToken: "tok1")))
        let failed = machine.handle(.listFailed(.status(410, message: "The provided continue parameter is too old")))
        #expect(Self.waits(failed) == [100])
        #expect(Self.emits(failed).isEmpty)
        #expect(machine.handle(.backoffElapsed) == [.list(continueToken: nil)])
        // The page from before the failure is not carried over.
        #expect(machine.handle(.listed(ListPage(items: [], resourceVersion: "120"))) == [.emit(.synced([:])), .watch(resourceVersion: "120")])
    }

    @Test func eventsBecomeUpsertsAndDeletesAndAdvanceTheVersion() throws {
        var machine = try started()
        _ = try listed(&machine)
        let b = try Fixtures.pod("b", uid: "u-b", resourceVersion: "101")
        let b2 = try Fixtures.pod("b", uid: "u-b", resourceVersion: "102")
        #expect(machine.handle(.watchEvent(.added(b))) == [.emit(.upsert(Fixtures.key("b", uid: "u-b"), b))])
        #expect(machine.handle(.watchEvent(.modified(b2))) == [.emit(.upsert(Fixtures.key("b", uid: "u-b"), b2))])
        #expect(machine.resourceVersion == "102")
        let gone = try Fixtures.pod("b", uid: "u-b", resourceVersion: "103")
        #expect(machine.handle(.watchEvent(.deleted(gone))) == [.emit(.delete(Fixtures.key("b", uid: "u-b")))])
        #expect(machine.resourceVersion == "103")
    }

    @Test func bookmarkAdvancesTheVersionSilently() throws {
        var machine = try started()
        _ = try listed(&machine)
        #expect(machine.handle(.watchEvent(.bookmark(resourceVersion: "200"))) == [])
        #expect(machine.resourceVersion == "200")
        #expect(machine.handle(.watchEnded(.transport("connection reset"))).contains(.wait(milliseconds: 100)))
        #expect(machine.handle(.backoffElapsed) == [.watch(resourceVersion: "200")])
    }

    @Test func cleanEndAfterEventsResumesAtOnceFromTheLastVersion() throws {
        var machine = try started()
        _ = try listed(&machine)
        _ = machine.handle(.watchEvent(.bookmark(resourceVersion: "150")))
        #expect(machine.handle(.watchEnded(nil)) == [.watch(resourceVersion: "150")])
    }

    @Test func cleanEndWithoutEventsBacksOff() throws {
        var machine = try started()
        _ = try listed(&machine)
        let actions = machine.handle(.watchEnded(nil))
        #expect(Self.waits(actions) == [100])
        #expect(machine.handle(.backoffElapsed) == [.watch(resourceVersion: "100")])
    }

    @Test(arguments: ["transport", "500", "503", "401", "403", "error-event-500"])
    func failuresResumeFromTheLastVersionWithoutEmptyingState(kind: String) throws {
        var machine = try started()
        _ = try listed(&machine)
        _ = machine.handle(.watchEvent(.bookmark(resourceVersion: "130")))
        let actions: [M.Action]
        switch kind {
        case "transport": actions = machine.handle(.watchEnded(.transport("Recv failure: Connection reset by peer")))
        case "error-event-500": actions = machine.handle(.watchEvent(.error(code: 500, message: "internal error")))
        default: actions = machine.handle(.watchEnded(.status(Int(kind) ?? 0, message: "")))
        }
        #expect(Self.emits(actions).isEmpty)
        #expect(Self.waits(actions) == [100])
        #expect(machine.handle(.backoffElapsed) == [.watch(resourceVersion: "130")])
    }

    @Test(arguments: ["status", "event"])
    func goneRelistsAndNeverResumesFromTheOldVersion(form: String) throws {
        var machine = try started()
        _ = try listed(&machine, rv: "100")
        _ = machine.handle(.watchEvent(.bookmark(resourceVersion: "110")))
        let actions = form == "status"
            ? machine.handle(.watchEnded(.status(410, message: "too old resource version")))
            : machine.handle(.watchEvent(.error(code: 410, message: "too old resource version: 110 (300)")))
        #expect(actions.last == .list(continueToken: nil))
        #expect(Self.emits(actions).isEmpty)
        #expect(machine.resourceVersion == nil)
        // The stream end that follows is ignored: the relist is under way.
        #expect(machine.handle(.watchEnded(nil)) == [])
        let relisted = try listed(&machine, rv: "300")
        #expect(relisted.last == .watch(resourceVersion: "300"))
    }

    @Test func repeatedGoneWithoutProgressBacksOff() throws {
        var machine = try started()
        _ = try listed(&machine, rv: "100")
        #expect(machine.handle(.watchEnded(.status(410, message: ""))).last == .list(continueToken: nil))
        _ = try listed(&machine, rv: "101")
        // A second 410 right after the relist, with nothing received: wait first.
        let second = machine.handle(.watchEnded(.status(410, message: "")))
        #expect(Self.waits(second) == [200])
        #expect(machine.handle(.backoffElapsed) == [.list(continueToken: nil)])
    }

    @Test func backoffGrowsCapsAndResetsOnProgress() throws {
        var machine = try started()
        _ = try listed(&machine)
        var delays: [Int] = []
        for _ in 0..<6 {
            delays += Self.waits(machine.handle(.watchEnded(.transport("refused"))))
            #expect(machine.handle(.backoffElapsed) == [.watch(resourceVersion: "100")])
        }
        #expect(delays == [100, 200, 400, 800, 1_000, 1_000])
        _ = machine.handle(.watchEvent(.bookmark(resourceVersion: "101")))
        #expect(Self.waits(machine.handle(.watchEnded(.transport("refused")))) == [100])
    }

    @Test func listFailuresBackOffAndRetryTheList() throws {
        var machine = try started()
        var delays: [Int] = []
        for status in [401, 403, 500, 503] {
            let actions = machine.handle(.listFailed(.status(status, message: "")))
            #expect(Self.emits(actions).isEmpty)
            delays += Self.waits(actions)
            #expect(machine.handle(.backoffElapsed) == [.list(continueToken: nil)])
        }
        #expect(delays == [100, 200, 400, 800])
        #expect(try listed(&machine).last == .watch(resourceVersion: "100"))
        #expect(machine.attempt == 0)
    }

    @Test func jitterStaysWithinBoundsAndVaries() {
        let policy = BackoffPolicy(initialMilliseconds: 500, maximumMilliseconds: 30_000, jitter: 0.5)
        var random = SplitMix64(seed: 42)
        var seen = Set<Int>()
        for attempt in 1...12 {
            let base = min(30_000, 500 << (attempt - 1))
            for _ in 0..<20 {
                let delay = policy.delay(attempt: attempt, unit: Double(random.next() >> 11) / Double(1 << 53))
                #expect(delay <= base && delay >= base / 2)
                seen.insert(delay)
            }
        }
        #expect(seen.count > 100)
        #expect(policy.delay(attempt: 1_000, unit: 0) == 30_000)
    }

    @Test func objectsWithoutNamesAreReportedNotDelivered() throws {
        var machine = try started()
        let nameless = try JSONDocument.parse(#"{"kind":"Pod","metadata":{"uid":"x"}}"#)
        let actions = machine.handle(.listed(ListPage(items: [nameless], resourceVersion: "5")))
        #expect(actions.count == 3)
        #expect(Self.emits(actions) == [.synced([:])])
        let event = machine.handle(.watchEvent(.added(nameless)))
        #expect(Self.emits(event).isEmpty && event.count == 1)
    }

    @Test func inputsOutOfPhaseAreIgnored() throws {
        var machine = M(resource: "pods", backoff: Self.noJitter, seed: 1)
        #expect(machine.handle(.backoffElapsed) == [])
        #expect(machine.handle(.watchEvent(.bookmark(resourceVersion: "9"))) == [])
        _ = machine.handle(.start)
        #expect(machine.handle(.watchEnded(nil)) == [])
        #expect(machine.handle(.start) == [])
        #expect(machine.resourceVersion == nil)
    }

    /// Whatever fails, the consumer's store only changes through events and
    /// complete lists; it is never emptied by a failure.
    @Test func storeSurvivesAnySequenceOfFailures() throws {
        var machine = try started()
        var store = ObjectStore()
        func feed(_ actions: [M.Action]) { for change in Self.emits(actions) { store.apply(change) } }
        feed(try listed(&machine, pods: [("a", "u-a"), ("b", "u-b")]))
        let failures: [M.Input] = [.watchEnded(.transport("cut")), .backoffElapsed, .watchEnded(.status(500, message: "")),
                                   .backoffElapsed, .watchEvent(.error(code: 410, message: "gone")),
                                   .listFailed(.status(503, message: "")), .backoffElapsed, .listFailed(.transport("refused"))]
        for input in failures {
            feed(machine.handle(input))
            #expect(store.objects.count == 2)
        }
        #expect(store.hasSynced)
    }

    @Test func listPageAndEventDecoding() throws {
        let body = Fixtures.listJSON(items: [Fixtures.podJSON("a", uid: "u-a", resourceVersion: "7")], resourceVersion: "9", continueToken: "eyJ2IjoibWV0YS5rOHMuaW8vdjEifQ==")
        let page = try ListPage.decode(body: Array(body.utf8))
        #expect(page.items.count == 1 && page.resourceVersion == "9" && page.continueToken == "eyJ2IjoibWV0YS5rOHMuaW8vdjEifQ==")
        #expect(throws: WatchEventError.self) { try ListPage.decode(body: Array(#"{"items":[]}"#.utf8)) }
        let gone = try WatchEvent.decode(line: Array(Fixtures.goneEvent().utf8.dropLast()))
        #expect(gone == .error(code: 410, message: "too old resource version: 100 (250)"))
        #expect(try WatchEvent.decode(line: Array(Fixtures.bookmark("77").utf8.dropLast())) == .bookmark(resourceVersion: "77"))
        #expect(throws: WatchEventError.self) { try WatchEvent.decode(line: Array(#"{"type":"ADDED","object":{"kind":"Pod","#.utf8)) }
        #expect(KubeResource.percentEncoded("a+b/c=") == "a%2Bb%2Fc%3D")
    }

    @Test func lineSplitterKeepsPartialLinesForTheNextChunk() throws {
        var splitter = LineSplitter()
        let text = Array((Fixtures.bookmark("1") + Fixtures.bookmark("2")).utf8)
        var lines: [[UInt8]] = []
        for cut in stride(from: 0, to: text.count, by: 7) {
            let chunk = Array(text[cut..<min(cut + 7, text.count)])
            lines += try chunk.withUnsafeBytes { try splitter.append($0) }
        }
        #expect(lines.count == 2)
        #expect(splitter.partialByteCount == 0)
        #expect(try WatchEvent.decode(line: lines[1]) == .bookmark(resourceVersion: "2"))
    }
}
