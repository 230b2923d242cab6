import Foundation
import Testing
@testable import PodgateAgent
import PodgateModel

@Suite struct WatchedManifestsTests {
    @Test func aBrokenFileKeepsItsLastGoodContent() throws {
        let directory = NSTemporaryDirectory() + "podgate-test-manifests-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let check: (String) -> Diagnostic? = { $0.contains("BROKEN") ? Diagnostic(object: "", field: "", message: "line 1: bad") : nil }
        var reader = WatchedManifests(path: directory)

        try "kind: Namespace v1".write(toFile: "\(directory)/a.yaml", atomically: true, encoding: .utf8)
        try "ignored".write(toFile: "\(directory)/notes.txt", atomically: true, encoding: .utf8)
        try "7".write(toFile: "\(directory)/.podgate-generation", atomically: true, encoding: .utf8)
        var reading = try reader.read(isParsable: check)
        #expect(reading.files.map(\.name) == ["a.yaml"])
        #expect(reading.generation == 7)
        #expect(reading.problems.isEmpty)

        try "kind: Namespace v1 BROKEN".write(toFile: "\(directory)/a.yaml", atomically: true, encoding: .utf8)
        reading = try reader.read(isParsable: check)
        #expect(reading.files.map(\.text) == ["kind: Namespace v1"])
        #expect(reading.problems.count == 1)
        #expect(reading.problems.first?.description.contains("a.yaml") == true)
        #expect(reading.problems.first?.description.contains("last good") == true)

        try FileManager.default.removeItem(atPath: "\(directory)/a.yaml")
        reading = try reader.read(isParsable: check)
        #expect(reading.files.isEmpty)
    }
}
