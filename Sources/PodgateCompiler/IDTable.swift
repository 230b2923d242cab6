import PodgateModel

/// Numbers things that exist, stably: a key keeps its number for as long as
/// it exists, a new key takes the next number of a counter that only goes
/// up, so a freed number is never handed to something else (a stale map
/// entry or event can never be read as a different object).
public struct IDTable<Key: Hashable & Comparable & Sendable>: Hashable, Sendable {
    public private(set) var ids: [Key: UInt32] = [:]
    public private(set) var next: UInt32
    public let limit: UInt32

    public init(first: UInt32, limit: UInt32 = .max) {
        self.next = first
        self.limit = limit
    }

    public subscript(key: Key) -> UInt32? { ids[key] }

    /// Keeps the numbers of `live` keys, forgets the others, and numbers new
    /// keys in sorted order (deterministic). Returns the keys that could not
    /// be numbered because the range is exhausted.
    @discardableResult
    public mutating func update(live: Set<Key>) -> [Key] {
        ids = ids.filter { live.contains($0.key) }
        var exhausted: [Key] = []
        // Sort only the keys that need a number: sorting every live key on
        // every compile cost ~0.1 s at 150k pods for nothing.
        for key in live.filter({ ids[$0] == nil }).sorted() {
            guard next < limit else {
                exhausted.append(key)
                continue
            }
            ids[key] = next
            next += 1
        }
        return exhausted
    }

    /// One key at a time (the incremental compiler): its number, or the next
    /// one; nil when the range is exhausted.
    mutating func insert(_ key: Key) -> UInt32? {
        if let id = ids[key] { return id }
        guard next < limit else { return nil }
        ids[key] = next
        next += 1
        return next - 1
    }

    /// Forgets a key that no longer exists; its number is never handed out again.
    mutating func remove(_ key: Key) { ids[key] = nil }

    /// Number to key, for tools.
    public var keysByID: [UInt32: Key] {
        Dictionary(uniqueKeysWithValues: ids.map { ($0.value, $0.key) })
    }
}
