#if canImport(Glibc)
import Glibc
#endif

/// A ratio X/A from paired rounds, with a distribution-free confidence interval. Pure.
///
/// Each round measures A and X back to back, so slow drifts of a shared machine
/// (another engineer's build starting) hit both halves; the round's ratio cancels
/// them. On the logarithms of the round ratios, the estimate is the
/// Hodges-Lehmann median of the Walsh averages, and the interval the Wilcoxon
/// signed-rank interval: exact for any distribution symmetric about its centre,
/// heavy tails included (a compiler stealing one half of a round), and nearly
/// as narrow as a t interval on normal data (the sign test would need ~1.5x
/// the rounds for the same width). Above 300 rounds the sign-test interval of
/// the median is used instead (no symmetry needed; the exact signed-rank
/// distribution is not worth tabulating there).
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
        guard !ratios.isEmpty, ratios.allSatisfy({ $0.isFinite && $0 > 0 }) else { return nil }
        let logs = ratios.map { log($0) }
        let n = logs.count
        if n <= 300 {
            guard let (lowRank, coverage) = Statistics.signedRankInterval(count: n, confidence: confidence) else { return nil }
            var walsh: [Double] = []
            walsh.reserveCapacity(n * (n + 1) / 2)
            for i in 0..<n { for j in i..<n { walsh.append((logs[i] + logs[j]) / 2) } }
            walsh.sort()
            self.ratio = exp(Statistics.median(walsh)!)
            self.low = exp(walsh[lowRank])
            self.high = exp(walsh[walsh.count - 1 - lowRank])
            self.coverage = coverage
        } else {
            guard let (lowRank, coverage) = Statistics.medianInterval(count: n, confidence: confidence) else { return nil }
            let sorted = ratios.sorted()
            self.ratio = Statistics.median(ratios)!
            self.low = sorted[lowRank]
            self.high = sorted[n - 1 - lowRank]
            self.coverage = coverage
        }
        self.rounds = n
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

    /// The Wilcoxon signed-rank interval for a centre of `count` samples: the
    /// 0-based rank k of its low end among the count(count+1)/2 sorted Walsh
    /// averages (the high end is the same rank from the top), and its exact
    /// coverage 1 - 2 P(T+ <= k), T+ the signed-rank statistic under the null;
    /// the largest k still >= `confidence`. nil below 6 samples at 95%.
    /// Exact by counting (doubles hold 2^count up to count ~1000).
    public static func signedRankInterval(count n: Int, confidence: Double) -> (rank: Int, coverage: Double)? {
        guard n > 0, n <= 1000, confidence > 0, confidence < 1 else { return nil }
        let total = n * (n + 1) / 2
        // ways[t]: subsets of {1...n} summing to t.
        var ways = [Double](repeating: 0, count: total + 1)
        ways[0] = 1
        for i in 1...n { for t in stride(from: total, through: i, by: -1) { ways[t] += ways[t - i] } }
        let all = pow(2.0, Double(n))
        var best: (Int, Double)?
        var tail = 0.0
        for k in 0...(total / 2) {
            tail += ways[k] / all
            let coverage = 1 - 2 * tail
            guard coverage >= confidence else { break }
            best = (k, coverage)
        }
        return best
    }
}
