import PodgateTestSupport
import Testing
@testable import PodgateBenchCore
#if canImport(Glibc)
import Glibc
#endif

/// Seeded (PodgateTestSupport's SplitMix64), so every run of these tests draws the same samples.
extension SplitMix64 {
    mutating func uniform() -> Double { (Double(next() >> 11) + 0.5) / Double(1 << 53) }
    /// Box-Muller.
    mutating func normal() -> Double { sqrt(-2 * log(uniform())) * cos(2 * Double.pi * uniform()) }
    /// Heavy tails: a build stealing one half of a round. Callers clamp it to stay finite after exp.
    mutating func cauchy() -> Double { tan(Double.pi * (uniform() - 0.5)) }
}

@Suite struct PairedRatioTests {
    @Test func signTestRanksMatchTheBinomial() {
        // Exact values of 1 - 2 P(Binomial(n, 1/2) <= k), computed independently.
        #expect(Statistics.medianInterval(count: 5, confidence: 0.95) == nil)
        let six = Statistics.medianInterval(count: 6, confidence: 0.95)
        #expect(six?.rank == 0 && abs(six!.coverage - 0.96875) < 1e-12)
        let twenty = Statistics.medianInterval(count: 20, confidence: 0.95)
        #expect(twenty?.rank == 5 && abs(twenty!.coverage - 0.9586105346679688) < 1e-9)
        #expect(Statistics.medianInterval(count: 30, confidence: 0.95)?.rank == 9)
        #expect(Statistics.medianInterval(count: 40, confidence: 0.95)?.rank == 13)
        #expect(Statistics.medianInterval(count: 1000, confidence: 0.95)?.rank == 468)
    }

    @Test func signedRankRanksMatchTheTables() {
        // Two-sided 5% critical values of the Wilcoxon signed-rank statistic
        // (n = 10: T <= 8; 20: 52; 30: 137), as printed in standard tables.
        #expect(Statistics.signedRankInterval(count: 5, confidence: 0.95) == nil)
        let six = Statistics.signedRankInterval(count: 6, confidence: 0.95)
        #expect(six?.rank == 0 && abs(six!.coverage - 0.96875) < 1e-12)
        let ten = Statistics.signedRankInterval(count: 10, confidence: 0.95)
        #expect(ten?.rank == 8 && abs(ten!.coverage - 0.951171875) < 1e-12)
        #expect(Statistics.signedRankInterval(count: 20, confidence: 0.95)?.rank == 52)
        #expect(Statistics.signedRankInterval(count: 30, confidence: 0.95)?.rank == 137)
        #expect(Statistics.signedRankInterval(count: 60, confidence: 0.95)?.rank == 648)
    }

    @Test func intervalEndsAreWalshAverages() {
        // Six rounds: the 96.9% interval is [smallest, largest] Walsh average = [min, max].
        let six = PairedRatio(ratios: [0.9, 1.1, 1.0, 0.95, 1.05, 1.02].shuffled())!
        #expect(abs(six.low - 0.9) < 1e-12 && abs(six.high - 1.1) < 1e-12)
        // The estimate is on logarithms: ratios r and 1/r pair to 1.
        let symmetric = PairedRatio(ratios: [0.8, 1.25, 0.9, 1 / 0.9, 0.95, 1 / 0.95, 1])!
        #expect(abs(symmetric.ratio - 1) < 1e-12)
        #expect(abs(symmetric.low * symmetric.high - 1) < 1e-12)
        #expect(symmetric.rounds == 7)
        // Above 300 rounds: the sign-test interval of the median.
        let many = PairedRatio(ratios: (1...301).map { 0.85 + 0.3 * Double($0) / 301 }.shuffled())!
        let rank = Statistics.medianInterval(count: 301, confidence: 0.95)!.rank
        #expect(abs(many.low - (0.85 + 0.3 * Double(rank + 1) / 301)) < 1e-12)
        #expect(PairedRatio(reference: [10, 20], measured: [9, 18]) == nil)   // too few rounds
        #expect(PairedRatio(reference: [1, 1, 1, 1, 1, 1], measured: [1, 1, 1, 0, 1, 1]) == nil)
        #expect(PairedRatio(reference: [1, 1], measured: [1]) == nil)
        let fromPairs = PairedRatio(reference: [100, 200, 100, 50, 100, 100], measured: [97, 194, 97, 48.5, 97, 97])!
        #expect(abs(fromPairs.ratio - 0.97) < 1e-12 && fromPairs.high < 1)
    }

    /// The interval covers the true centre as often as promised,
    /// for a light-tailed and a heavy-tailed distribution of round ratios.
    @Test func coverageOfAKnownMedian() {
        var generator = SplitMix64(seed: 15)
        let trueRatio = 0.97
        for (name, draw) in [("log-normal", { (g: inout SplitMix64) in g.normal() * 0.05 }),
                             ("log-Cauchy", { (g: inout SplitMix64) in max(-30, min(30, g.cauchy() * 0.05)) })] {
            var covered = 0
            let trials = 2000
            for _ in 0..<trials {
                let ratios = (0..<20).map { _ in trueRatio * exp(draw(&generator)) }
                if PairedRatio(ratios: ratios)!.contains(trueRatio) { covered += 1 }
            }
            let rate = Double(covered) / Double(trials)
            // Exact coverage 0.9516 for any symmetric distribution; 2000 trials put
            // 3 standard errors at +-0.0144.
            #expect(rate > 0.937 && rate < 0.966, "\(name): covered \(rate)")
        }
    }

    @Test func verdicts() {
        func paired(_ center: Double, spread: Double) -> PairedRatio {
            PairedRatio(ratios: (0..<20).map { center + spread * (Double($0) / 19 - 0.5) })!
        }
        #expect(paired(0.97, spread: 0.01).verdict(resolution: 0.03) == .slower)
        #expect(paired(1.04, spread: 0.01).verdict(resolution: 0.03) == .faster)
        #expect(paired(1.0, spread: 0.02).verdict(resolution: 0.03) == .noDifference)
        #expect(paired(1.0, spread: 0.3).verdict(resolution: 0.03) == .unresolved)
        // A wide interval that holds 1 is unresolved though its point is 0.96: no misleading ratio.
        #expect(paired(0.97, spread: 0.5).verdict(resolution: 0.03) == .unresolved)
        let even = paired(1.0, spread: 0.2)
        #expect(abs(even.halfWidth - (even.high - even.low) / 2 / even.ratio) < 1e-12)
        #expect(even.low < 0.98 && even.high > 1.02)
    }

    /// The method's power: with 3% round-to-round noise, 40 paired rounds tell a
    /// 3% cost from none in nearly every seeded trial, and A against A almost never.
    @Test func fortyRoundsResolveThreePercentAtThreePercentNoise() {
        var generator = SplitMix64(seed: 8)
        var resolved = 0, falseAlarms = 0
        let trials = 500
        for _ in 0..<trials {
            let cost = PairedRatio(ratios: (0..<40).map { _ in 0.97 * exp(generator.normal() * 0.03) })!
            let same = PairedRatio(ratios: (0..<40).map { _ in exp(generator.normal() * 0.03) })!
            if cost.verdict(resolution: 0.03) == .slower { resolved += 1 }
            if same.verdict(resolution: 0.03) == .slower || same.verdict(resolution: 0.03) == .faster { falseAlarms += 1 }
        }
        #expect(Double(resolved) / Double(trials) > 0.9, "resolved \(resolved) of \(trials)")
        #expect(Double(falseAlarms) / Double(trials) < 0.06, "false alarms \(falseAlarms) of \(trials)")
    }

    @Test func ratioPrintedWithItsInterval() {
        var record = BenchRecord(suite: "datapath", configuration: "E", size: "-", metric: "conn/s", median: 1, ratioToA: 0.97)
        #expect(record.ratioText == "0.970")
        record.ratioLow = 0.9612
        record.ratioHigh = 0.978
        #expect(record.ratioText == "0.970 [0.961, 0.978]")
        #expect(ReportFormat.json(record).contains(#""ratio_ci95":[0.9612,0.978]"#))
        #expect(ReportFormat.table([record]).contains("0.970 [0.961, 0.978]"))
    }
}
