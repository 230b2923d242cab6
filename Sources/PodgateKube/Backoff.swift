/// Capped exponential backoff with jitter: attempt n waits
/// `min(maximum, initial * 2^(n-1))`, shortened by up to `jitter` of itself
/// at random so agents on every node do not reconnect in step.
public struct BackoffPolicy: Sendable, Equatable {
    public var initialMilliseconds: Int
    public var maximumMilliseconds: Int
    /// 0 ... 1: the fraction of the delay that is random.
    public var jitter: Double

    public init(initialMilliseconds: Int = 500, maximumMilliseconds: Int = 30_000, jitter: Double = 0.5) {
        self.initialMilliseconds = max(1, initialMilliseconds)
        self.maximumMilliseconds = max(self.initialMilliseconds, maximumMilliseconds)
        self.jitter = min(max(jitter, 0), 1)
    }

    /// The delay before retry `attempt` (1-based), given a random `unit` in 0..<1.
    public func delay(attempt: Int, unit: Double) -> Int {
        var base = initialMilliseconds
        var step = 1
        while step < attempt && base < maximumMilliseconds {
            base = base > maximumMilliseconds / 2 ? maximumMilliseconds : base * 2
            step += 1
        }
        base = min(base, maximumMilliseconds)
        return base - Int(Double(base) * jitter * min(max(unit, 0), 1))
    }
}

/// A small seeded generator, so the state machine stays a pure value and
/// tests can replay it; the driver seeds it from the system generator.
public struct SplitMix64: RandomNumberGenerator, Sendable, Equatable {
    private var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
