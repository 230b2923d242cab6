/// Order statistics for benchmark samples. Pure.
public enum Statistics {
    /// The median; the mean of the two middle values for an even count. nil when empty.
    public static func median(_ samples: [Double]) -> Double? {
        guard !samples.isEmpty else { return nil }
        let sorted = samples.sorted()
        let middle = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
    }

    /// The nearest-rank percentile (p in 0...100): the smallest sample with at
    /// least p% of the samples at or below it. p99 of 100 samples is the 99th.
    public static func percentile(_ samples: [Double], _ p: Double) -> Double? {
        guard !samples.isEmpty, p >= 0, p <= 100 else { return nil }
        let sorted = samples.sorted()
        let rank = Int((p / 100 * Double(sorted.count)).rounded(.up))
        return sorted[max(0, min(sorted.count - 1, rank - 1))]
    }

    /// `value / reference`, nil when the reference is missing or zero.
    public static func ratio(_ value: Double?, to reference: Double?) -> Double? {
        guard let value, let reference, reference != 0 else { return nil }
        return value / reference
    }
}
