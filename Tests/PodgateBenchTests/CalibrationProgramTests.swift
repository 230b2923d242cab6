import PodgateTestSupport
import Testing
@testable import PodgateBench
@testable import PodgateBenchCore
#if canImport(Glibc)
import Glibc
#endif

/// The known cost of `bench datapath --check` must load at every size it may be
/// given: the verifier walks the bounded loop once per iteration.
@Suite(.serialized) struct CalibrationProgramTests {
    @Test(.kernel) func loopLoadsAndAttachesFromOneToTheLargestSize() throws {
        let cgroup = try Host.cgroup2Mount() + "/podgate-test-calibration-\(getpid())"
        try Host.makeDirectories(cgroup)
        defer { rmdir(cgroup) }
        for iterations in [1, 2_000, CalibrationProgram.maxIterations] {
            let program = try CalibrationProgram(iterations: iterations, attachingTo: cgroup)
            defer { program.remove() }
            #expect(program.iterations == iterations)
            #expect(program.stats().runs == 0)
        }
        // Out-of-range sizes are clamped, never handed to the verifier.
        let clamped = try CalibrationProgram(iterations: 10_000_000, attachingTo: cgroup)
        clamped.remove()
        #expect(clamped.iterations == CalibrationProgram.maxIterations)
    }

    @Test func verdictTextsSayWhenTheIntervalCannotResolve() {
        #expect(DatapathBench.verdict(nil, resolution: 0.03).contains("too few rounds"))
        let wide = PairedRatio(ratios: (0..<30).map { 0.8 + 0.4 * Double($0) / 29 })
        #expect(DatapathBench.verdict(wide, resolution: 0.03).hasPrefix("CANNOT RESOLVE 3%"))
        let slower = PairedRatio(ratios: (0..<30).map { 0.95 + 0.02 * Double($0) / 29 })
        #expect(DatapathBench.verdict(slower, resolution: 0.03).hasPrefix("slower than A"))
        let same = PairedRatio(ratios: (0..<30).map { 0.99 + 0.02 * Double($0) / 29 })
        #expect(DatapathBench.verdict(same, resolution: 0.03).hasPrefix("no difference from A beyond 3%"))
    }
}
