import FoundationEssentials
import PodgateModel

/// How the simulator reads an agent's events (`EventRecord`, one a line in --events-file).
extension EventRecord {
    /// The record in one line of a check's report.
    var checkLine: String {
        "\(node) \(`where`.rawValue) \(verdict.rawValue) \(reason) \(`protocol`) \(srcPod ?? src) -> \(dstPod ?? dst):\(dstPort)"
    }

    /// Does this event report `result`'s connection the way `check` says?
    func matches(_ check: EventCheck, of result: ProbeResult) -> Bool {
        guard `where` == check.side, reason == check.reason,
              verdict == (result.probe.verdict == .allow ? .audit : .denied),
              `protocol`.uppercased() == result.probe.transport.rawValue,
              dstPort == result.probe.port, IPAddress(dst) == result.destination else { return false }
        // A pod is named by the agent; a host-network pod is seen as its node,
        // so it, like hosts and externals, is known by its address.
        if case .pod(let ref) = result.probe.from, srcPod == ref.description { return true }
        guard let source = result.source else { return false }
        return IPAddress(src) == source
    }

    func concerns(_ result: ProbeResult) -> Bool {
        dstPort == result.probe.port && IPAddress(dst) == result.destination
    }

    /// One line of an events file; nil when it is not an event.
    init?(line: some Collection<UInt8>) {
        guard let record = try? JSONDecoder().decode(EventRecord.self, from: Data(line)) else { return nil }
        self = record
    }
}

/// Reads the events the agents appended since a mark.
struct EventLog {
    let files: [String]
    private(set) var offsets: [String: Int] = [:]

    init(files: [String]) { self.files = files }

    /// Remember where the files end now: only later events count for this round.
    mutating func mark() {
        for file in files { offsets[file] = ((try? Files.read(file)) ?? "").utf8.count }
    }

    /// The lines appended since the mark, undecoded.
    func rawLinesSinceMark() -> [String] {
        var lines: [String] = []
        for file in files {
            guard let text = try? Files.read(file) else { continue }
            let bytes = Array(text.utf8)
            let start = min(offsets[file] ?? 0, bytes.count)
            for line in bytes[start...].split(separator: UInt8(ascii: "\n")) where !line.isEmpty {
                lines.append(String(decoding: line, as: UTF8.self))
            }
        }
        return lines
    }

    func eventsSinceMark() -> [EventRecord] {
        rawLinesSinceMark().compactMap { EventRecord(line: $0.utf8) }
    }
}
