import FoundationEssentials
import PodgateDatapath
import PodgateModel

/// The writer's side of the event record (`PodgateModel.EventRecord`): one
/// JSON object a line, keys sorted, slashes as they are.
extension EventRecord {
    /// Pass an encoder from `jsonEncoder()` to reuse it on a per-event path.
    public func jsonLine(using encoder: JSONEncoder = EventRecord.jsonEncoder()) -> String {
        guard let data = try? encoder.encode(self) else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }

    public static func jsonEncoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }

    /// A record for an event the datapath reported; the names and the
    /// analysis are the enricher's.
    init(_ event: DatapathEvent, time: String, node: String, source: String, srcPod: String?, srcKind: SourceKind,
         dstPod: String?, policies: [String], nearestMiss: [String]?, defaultPolicy: String?) {
        self.init(time: time, node: node, where: Side(event.location), verdict: Verdict(event.verdict), reason: event.reason,
                  protocol: event.transport?.rawValue ?? "\(event.transportNumber)",
                  src: source, srcPort: Int(event.sourcePort), dst: event.destination.description, dstPort: Int(event.destinationPort),
                  srcPod: srcPod, srcKind: srcKind, dstPod: dstPod, policies: policies,
                  pid: event.pid.map(Int.init), comm: event.command, nearestMiss: nearestMiss, defaultPolicy: defaultPolicy)
    }
}

extension EventRecord.Side {
    init(_ location: DatapathEvent.Location) {
        switch location {
        case .server: self = .server
        case .client: self = .client
        case .egress: self = .egress
        }
    }
}

extension EventRecord.Verdict {
    /// The datapath reports no allowed connection; were one to come, it is
    /// no refusal and is shown as audited.
    init(_ verdict: DatapathEvent.Verdict) {
        switch verdict {
        case .denied: self = .denied
        case .allowed, .audit: self = .audit
        case .revoked: self = .revoked
        }
    }
}
