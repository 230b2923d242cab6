import PodgateTestSupport
#if canImport(Glibc)
import Glibc
#endif
import Testing
import PodgateModel
@testable import PodgateSim

/// A step's `hold` list (docs/scenario-format.md): decoding, errors, and
/// scenarios written before it still decode the same.
struct HeldConnectionDecoderTests {
    func decode(_ step: DocumentValue) throws -> Scenario {
        try ScenarioDecoder.decode(m(("name", s("h")), ("manifests", s("M")), ("steps", l(step))), file: "t.yaml")
    }

    func message(_ step: DocumentValue) -> String {
        do { _ = try decode(step); return "no error" } catch { return "\(error)" }
    }

    @Test func decodesCutAndKept() throws {
        let scenario = try decode(m(("hold", l(probe("demo/a", "demo/b", 8080, "cut"),
                                               probe("demo/c", "demo/b", 53, "kept", ("protocol", s("UDP")))))))
        let held = scenario.steps[0].hold
        #expect(held.count == 2)
        #expect(held[0] == HeldConnection(probe: Probe(from: .pod(PodRef(namespace: "demo", name: "a")), to: PodRef(namespace: "demo", name: "b"),
                                                       port: 8080, verdict: .allow, field: "steps[0].hold[0]"), cut: true))
        #expect(held[1].cut == false && held[1].probe.transport == .udp)
    }

    @Test func stepsWithoutHoldAreUnchanged() throws {
        let scenario = try decode(m(("expect", l(probe("demo/a", "demo/b", 1, "deny")))))
        #expect(scenario.steps[0].hold.isEmpty)
    }

    @Test func errorsNameTheField() {
        #expect(message(m(("hold", l(probe("demo/a", "demo/b", 8080, "allow"))))) == "t.yaml: steps[0].hold[0].verdict \"allow\" is not cut or kept")
        #expect(message(m(("hold", l(m(("from", s("demo/a")), ("to", s("demo/b")), ("port", s("1"))))))) == "t.yaml: steps[0].hold[0].verdict is required (cut or kept)")
        #expect(message(m(("hold", l(m(("from", s("demo/a")), ("to", s("demo/b")), ("port", s("1")), ("verdict", s("cut")), ("verdcit", s("kept")))))))
                .contains("steps[0].hold[0].verdcit is not a field of the scenario format"))
        #expect(message(m(("hold", s("x")))) == "t.yaml: steps[0].hold must be a list of {from, to, port, verdict: cut|kept}")
        #expect(message(m(("hold", l(probe("demo/a", "demo/b", 0, "cut"))))).contains("steps[0].hold[0].port"))
    }
}

/// The shipped scenario, with its expectations turned around: every held
/// connection is reported against what it did, so `hold` checks something.
extension KernelSuites {
@Suite struct HeldConnectionKernelTests {
    @Test func revokeHeldFailsWhenItsExpectationsAreTurnedAround() throws {
        let executable = try KernelGate.executable()
        let root = "/" + "\(#filePath)".split(separator: "/").dropLast(3).joined(separator: "/")
        let original = try Files.read(root + "/Tests/scenarios-more/revoke-held.yaml")
        let turned = original.replacingOccurrences(of: "verdict: cut}", with: "verdict: KEPT}")
            .replacingOccurrences(of: "verdict: kept}", with: "verdict: cut}")
            .replacingOccurrences(of: "verdict: KEPT}", with: "verdict: kept}")
        #expect(turned != original)
        let file = "/tmp/podgate-sim-held-\(getpid()).yaml"
        try Files.write(file, turned)
        defer { unlink(file) }
        let result = try Command.status(executable: executable, ["sim", file])
        #expect(result.status == 1, "\(result.output)")
        #expect(result.output.contains("9 failed"), "\(result.output)")
        #expect(result.output.contains("steps[0].hold[0]: held data/app -> data/db 5432/TCP expected kept, saw cut"), "\(result.output)")
    }
}
}
