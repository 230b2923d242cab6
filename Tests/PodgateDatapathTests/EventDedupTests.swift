import Foundation
import PodgateTestSupport
import PodgateCgroups
import PodgateModel
import Testing
@testable import PodgateDatapath

/// "Each refused connection is reported once": a denied SYN that the client
/// retransmits is counted every time but reported as one event.
@Suite(.serialized, .kernel)
struct EventDedupTests {
    @Test func retransmittedSYNsAreCountedButReportedOnce() throws {
        let (sandbox, maps) = try KernelSandbox.loaded()
        defer { sandbox.tearDown() }
        let (clientSide, serverSide) = try sandbox.serverBehindVeth(maps)
        let collector = try sandbox.collectEvents(maps)
        // The listener must outlive both probes (~4 s plus two interpreter starts,
        // far more under load): gone, its port answers RST ("refused"). Killed in tearDown.
        let listener = try sandbox.ready(cgroup: sandbox.cgroupPath, namespace: serverSide, ["listen", "10.201.0.2", "8080", "60"])

        // One connect() waiting 3.5 s: the SYN goes out at 0, ~1 and ~3 s.
        let denied = try sandbox.session(cgroup: nil, namespace: clientSide, ["connect", "10.201.0.2", "8080", "tcp", "3.5"]).finish()
        #expect(denied.lines == ["timeout"])
        // A second connection (a new source port) is a new refusal: reported.
        let again = try sandbox.session(cgroup: nil, namespace: clientSide, ["connect", "10.201.0.2", "8080", "tcp", "0.5"]).finish()
        #expect(again.lines == ["timeout"])
        usleep(300_000)

        let counters = try maps.counters()
        let refusals = counters[.server, .denied, .defaultDeny]
        #expect(refusals >= 3, "every SYN is counted")
        let events = collector.all().filter { $0.location == .server }
        #expect(events.count == 2, "one event per connection, not per SYN: \(events.count) events, \(refusals) refusals")
        #expect(Set(events.map(\.sourcePort)).count == 2)
        #expect(counters.eventsDeduplicated == refusals - UInt64(events.count))
    }
}

