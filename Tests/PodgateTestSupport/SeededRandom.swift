import PodgateKube

/// The seeded generator of the random and fuzz tests, so they replay by
/// seed: the one SplitMix64 (PodgateKube's, which seeds the list/watch backoff).
public typealias SplitMix64 = PodgateKube.SplitMix64
