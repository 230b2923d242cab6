import Foundation
import PodgateAgent
import PodgateCLI
import PodgateModel
import PodgateLog

/// `podgate events tail`: denied, audit and revoked events from the running agent,
/// enriched with names, the policies considered and the nearest miss.
enum EventsCommand {
    static let spec = CommandSpec(
        name: "podgate events tail", summary: "Stream denied, audit and revoked connection events from the running agent.",
        flags: [
            CommonFlags.namespace, CommonFlags.pod,
            .init("verdict", value: "denied|audit|revoked", help: "Only this verdict (revoked: open connections a change closed)"),
            .init("where", value: "client|server", help: "Only events decided at this end"),
            .init("port", value: "N", help: "Only connections to this destination port"),
            .init("since", value: "DURATION", help: "First replay the agent's recent history (e.g. 30s, 5m); bounded, the newest 4096 events"),
            .init("limit", value: "N", help: "Exit after N events"),
            .init("duration", value: "DURATION", help: "Exit after this long"),
            CommonFlags.stateDir, OutputFormat.flag,
        ],
        details: "Several tails may run at once; each sees every event. A reader that falls behind skips events\nand is told how many (a `skipped` line); it never slows the agent. -o json prints one object a line.")

    static func run(_ arguments: [String]) -> Int32 {
        guard let arguments = CommandSpec.subcommand("tail", of: "podgate events", arguments) else { return 2 }
        return spec.run(arguments) { parsed in
            let format = try OutputFormat(parsed)
            let verdict = try parsed.value("verdict").map { text in
                guard let verdict = EventRecord.Verdict(rawValue: text) else {
                    throw UsageError("--verdict must be denied, audit or revoked, not \"\(text)\"")
                }
                return verdict
            }
            let side = try parsed.value("where").map { text in
                guard let side = EventRecord.Side(rawValue: text), side != .egress else {
                    throw UsageError("--where must be client or server, not \"\(text)\"")
                }
                return side
            }
            let port = parsed.value("port") == nil ? nil : try parsed.int("port", default: 0, range: 1...65535)
            let since = try parsed.value("since").map(DurationText.seconds)
            let limit = parsed.value("limit") == nil ? nil : try parsed.int("limit", default: 0, range: 1...Int.max)
            let duration = try parsed.value("duration").map(DurationText.seconds)
            let filter = EventFilter(namespace: parsed.value("namespace"), pod: parsed.value("pod"), verdict: verdict, where: side, port: port)
            let fd = try ControlClient.open(stateDirectory: CommonFlags.stateDirectory(parsed),
                                            ControlRequest(op: .events, events: EventSubscriptionRequest(filter: filter, sinceSeconds: since)))
            defer { close(fd) }
            if let duration {
                // SO_RCVTIMEO ends the blocking read when the time is up.
                var timeout = timeval(tv_sec: Int(duration), tv_usec: Int((duration - duration.rounded(.down)) * 1e6))
                setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            }
            let deadline = duration.map { Date(timeIntervalSinceNow: $0) }
            var reader = LineReader(fd: fd)
            var seen = 0
            let decoder = JSONDecoder()
            while let line = reader.next() {
                guard let message = try? decoder.decode(EventStreamMessage.self, from: Data(line.utf8)) else {
                    throw UsageError("the agent sent a line that is not an event: \(line.prefix(200))")
                }
                if let event = message.event {
                    Output.out(format == .json ? event.jsonLine() : render(event))
                    seen += 1
                    if let limit, seen >= limit { return 0 }
                } else if let skipped = message.skipped {
                    Output.out(format == .json ? "{\"skipped\":\(skipped)}" : "# skipped \(skipped) events: this reader fell behind")
                } else if let replayed = message.replayed {
                    Output.err("podgate events tail: following the agent's events (\(replayed) replayed from history)")
                }
                if let deadline, Date() >= deadline { return 0 }
            }
            if let deadline, Date() >= deadline { return 0 }
            throw UsageError("the agent closed the event stream (did it stop?)")
        }
    }

    /// One event for people: the line, then the why.
    static func render(_ e: EventRecord) -> String {
        let from = e.srcPod ?? e.srcKind.rawValue
        let to = e.dstPod ?? "world"
        var out = "\(e.time) \(e.verdict.rawValue.uppercased()) \(e.where.rawValue) \(e.protocol) \(from) \(e.src)\(e.srcPort == 0 ? "" : ":\(e.srcPort)")"
            + " -> \(to) \(e.dst):\(e.dstPort) reason=\(e.reason)"
        if let pid = e.pid { out += "\n    process: pid \(pid)\(e.comm.map { " (\($0))" } ?? "")" }
        if !e.policies.isEmpty { out += "\n    policies considered: \(e.policies.joined(separator: ", "))" }
        if let change = e.change { out += "\n    closed after: \(change.isEmpty ? "a change" : change.joined(separator: "; "))" }
        if let policy = e.defaultPolicy { out += "\n    default inbound policy: \(policy)" }
        if let miss = e.nearestMiss {
            out += miss.isEmpty ? "\n    no policy selects \(to)" : miss.map { "\n    nearest miss: \($0)" }.joined()
        }
        return out
    }
}
