import FoundationEssentials
import PodgateModel

/// One line of an agent's --events-file.
struct AgentEvent: Decodable, CustomStringConvertible {
    var node: String?
    var `where`: String?
    var verdict: String?
    var reason: String?
    var `protocol`: String?
    var src: String?
    var dst: String?
    var dstPort: Int?
    var srcPod: String?
    var dstPod: String?
    var pid: Int?
    var comm: String?

    var description: String {
        "\(node ?? "?") \(`where` ?? "?") \(verdict ?? "?") \(reason ?? "?") \(`protocol` ?? "?") \(srcPod ?? src ?? "?") -> \(dstPod ?? dst ?? "?"):\(dstPort.map(String.init) ?? "?")"
    }

    /// Does this event report `result`'s connection the way `check` says?
    func matches(_ check: EventCheck, of result: ProbeResult) -> Bool {
        guard `where` == check.side.rawValue, reason == check.reason.rawValue,
              verdict == (result.probe.verdict == .allow ? "audit" : "denied"),
              `protocol`?.uppercased() == result.probe.transport.rawValue,
              dstPort == result.probe.port, let dst, IPAddress(dst) == result.destination else { return false }
        // A pod is named by the agent; a host-network pod is seen as its node,
        // so it, like hosts and externals, is known by its address.
        if case .pod(let ref) = result.probe.from, srcPod == ref.description { return true }
        guard let src, let source = result.source else { return false }
        return IPAddress(src) == source
    }

    func concerns(_ result: ProbeResult) -> Bool {
        dstPort == result.probe.port && dst.flatMap(IPAddress.init) == result.destination
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

    func eventsSinceMark() -> [AgentEvent] {
        let decoder = JSONDecoder()
        var events: [AgentEvent] = []
        for file in files {
            guard let text = try? Files.read(file) else { continue }
            let bytes = Array(text.utf8)
            let start = min(offsets[file] ?? 0, bytes.count)
            for line in bytes[start...].split(separator: UInt8(ascii: "\n")) where !line.isEmpty {
                if let event = try? decoder.decode(AgentEvent.self, from: Data(line)) { events.append(event) }
            }
        }
        return events
    }
}
