#if canImport(Glibc)
import Glibc
#endif

/// A ratio X/A from paired rounds, with a distribution-free confidence interval. Pure.
///
/// Each round measures A and X back to back, so slow drifts of a shared machine
/// (another engineer's build starting) hit both halves; the round's ratio cancels
/// them. The estimate is the median of the round ratios, and the interval the
/// sign-test (binomial order-statistic) interval for that median: it holds for
/// any distribution of round ratios, heavy tails included, which matters when a
/// compiler steals one half of a round.
public struct PairedRatio: Equatable, Sendable {
    public var ratio: Double
    public var low: Double
    public var high: Double
    /// The interval's actual coverage (>= the requested confidence).
    public var coverage: Double
    public var rounds: Int

    /// Half the interval's width relative to the ratio: 0.015 is "+-1.5%".
    public var halfWidth: Double { (high - low) / 2 / ratio }

    public func contains(_ value: Double) -> Bool { low <= value && value <= high }

    /// What the interval allows one to say about a difference of `resolution` (0.03 = 3%).
    public func verdict(resolution: Double) -> Verdict {
        if high < 1 { return .slower }
        if low > 1 { return .faster }
        if low >= 1 - resolution && high <= 1 + resolution { return .noDifference }
        return .unresolved
    }

    public enum Verdict: Equatable, Sendable {
        case slower, faster
        /// The interval holds 1 and lies within +-resolution.
        case noDifference
        /// The interval holds 1 but is wider than +-resolution: the figure says nothing at that resolution.
        case unresolved
    }

    /// nil when there are too few rounds for any interval at `confidence`
    /// (6 at 95%) or a ratio is not a positive finite number.
    public init?(reference: [Double], measured: [Double], confidence: Double = 0.95) {
        guard reference.count == measured.count else { return nil }
        let ratios = zip(measured, reference).map { $0 / $1 }
        self.init(ratios: ratios, confidence: confidence)
    }

    public init?(ratios: [Double], confidence: Double = 0.95) {
        guard ratios.allSatisfy({ $0.isFinite && $0 > 0 }),
              let (lowRank, coverage) = Statistics.medianInterval(count: ratios.count, confidence: confidence),
              let median = Statistics.median(ratios) else { return nil }
        let sorted = ratios.sorted()
        self.ratio = median
        self.low = sorted[lowRank]
        self.high = sorted[sorted.count - 1 - lowRank]
        self.coverage = coverage
        self.rounds = ratios.count
    }
}

extension Statistics {
    /// The sign-test interval for a median of `count` samples: the 0-based rank
    /// k of its low end (the high end is rank count-1-k) and its exact coverage
    /// 1 - 2 P(Binomial(count, 1/2) <= k), the largest k whose coverage is still
    /// >= `confidence`. nil when even [min, max] falls short (count < 6 at 95%).
    public static func medianInterval(count: Int, confidence: Double) -> (rank: Int, coverage: Double)? {
        guard count > 0, confidence > 0, confidence < 1 else { return nil }
        var best: (Int, Double)?
        var tail = 0.0  // P(B <= k)
        for k in 0..<(count / 2 + 1) {
            tail += binomialHalf(count, k)
            let coverage = 1 - 2 * tail
            guard coverage >= confidence else { break }
            best = (k, coverage)
        }
        return best
    }

    /// P(Binomial(n, 1/2) = k), by logarithms so n in the thousands does not overflow.
    static func binomialHalf(_ n: Int, _ k: Int) -> Double {
        var logChoose = 0.0
        for i in 0..<k { logChoose += log(Double(n - i)) - log(Double(i + 1)) }
        return exp(logChoose - Double(n) * log(2.0))
    }
}
