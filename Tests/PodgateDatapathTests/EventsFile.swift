import Foundation
import PodgateModel

/// The agent's --events-file, read through the one event record.
enum EventsFile {
    static func records(_ path: String) -> [EventRecord] {
        records(in: (try? String(contentsOfFile: path, encoding: .utf8)) ?? "")
    }

    /// One record a line; a line that is no record is left out.
    static func records(in text: String) -> [EventRecord] {
        let decoder = JSONDecoder()
        return text.split(separator: "\n").compactMap { try? decoder.decode(EventRecord.self, from: Data($0.utf8)) }
    }
}
