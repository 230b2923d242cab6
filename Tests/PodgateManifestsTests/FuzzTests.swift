import PodgateTestSupport
import Testing
import PodgateModel
@testable import PodgateManifests

/// Mangled manifests must give errors or objects, never a crash or a hang.
@Suite struct FuzzTests {

    @Test func mangledScenarioManifestsNeverCrash() throws {
        let files = try ManifestDirectory.readFiles(at: ObjectDecodingTests.scenarioDirectory)
        var random = SplitMix64(seed: 7)
        let alphabet = Array("{}[]:,-&*!|>'\"\n #\t?%@`".utf8) + [0x00, 0xFF, 0xC3]
        var parsed = 0
        for file in files {
            for _ in 0..<150 {
                var bytes = file.bytes
                for _ in 0..<Int.random(in: 1...8, using: &random) where !bytes.isEmpty {
                    let at = Int.random(in: 0..<bytes.count, using: &random)
                    switch Int.random(in: 0..<3, using: &random) {
                    case 0: bytes[at] = alphabet.randomElement(using: &random) ?? 0
                    case 1: bytes.remove(at: at)
                    default: bytes.insert(alphabet.randomElement(using: &random) ?? 0, at: at)
                    }
                }
                if Bool.random(using: &random) { bytes = Array(bytes.prefix(Int.random(in: 0...bytes.count, using: &random))) }
                let set = ManifestSet(files: [ManifestFile(name: file.name, bytes: bytes)])
                parsed += set.snapshot.pods.count
                // The scenarios hold their manifests as a string: mangle the inner stream too.
                if let inner = (try? YAMLParser.parse(bytes: bytes))?.first?["manifests"]?.string {
                    parsed += ManifestSet(text: inner).snapshot.pods.count
                }
            }
        }
        #expect(parsed > 0)
    }
}
