import Foundation
import PodgateModel

/// Reads the local-mode manifest directory. A file that fails to parse keeps
/// its last good content, so a typo in one file never changes what is being
/// enforced; the failure is reported with the file name.
struct WatchedManifests {
    let path: String
    private var lastGood: [String: String] = [:]
    static let generationFile = ".podgate-generation"

    init(path: String) { self.path = path }

    struct Reading {
        var files: [(name: String, text: String)]
        var problems: [Diagnostic]
        var generation: Int?
    }

    /// `isParsable` decides whether a file's text is usable (YAML parses).
    mutating func read(isParsable: (String) -> Diagnostic?) throws -> Reading {
        // The generation is read before the listing: whoever writes the
        // directory writes it last, so it never claims content not yet read.
        let generationText = try? String(contentsOfFile: "\(path)/\(Self.generationFile)", encoding: .utf8)
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: path)
        } catch {
            throw AgentError.configuration("cannot read the manifest directory \(path): \(error.localizedDescription)")
        }
        var reading = Reading(files: [], problems: [], generation: generationText.flatMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) })
        var seen = Set<String>()
        for name in names.sorted() {
            guard !name.hasPrefix("."), name.hasSuffix(".yaml") || name.hasSuffix(".yml") || name.hasSuffix(".json") else { continue }
            seen.insert(name)
            guard let data = FileManager.default.contents(atPath: "\(path)/\(name)") else { continue }
            guard let text = String(validatingUTF8: data) else {
                reading.problems.append(Diagnostic(object: name, field: "", message: "is not valid UTF-8; keeping its last good content"))
                if let previous = lastGood[name] { reading.files.append((name, previous)) }
                continue
            }
            if let problem = isParsable(text) {
                reading.problems.append(Diagnostic(object: name, field: problem.field, message: problem.message + (lastGood[name] != nil ? "; keeping its last good content" : "")))
                if let previous = lastGood[name] { reading.files.append((name, previous)) }
                continue
            }
            lastGood[name] = text
            reading.files.append((name, text))
        }
        for name in lastGood.keys where !seen.contains(name) { lastGood[name] = nil }
        return reading
    }
}

extension String {
    init?(validatingUTF8 data: Data) {
        guard let text = String(data: data, encoding: .utf8) else { return nil }
        self = text
    }
}
