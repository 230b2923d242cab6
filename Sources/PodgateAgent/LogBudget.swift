/// How many event lines per second the agent's log takes. Under a flood the
/// log would otherwise cost more than the events themselves; the full stream
/// stays available through `events tail` and `--events-file`.
struct LogBudget {
    let perSecond: Int
    private var second: Int64 = .min
    private var used = 0
    private var suppressed = 0

    init(perSecond: Int) { self.perSecond = perSecond }

    /// Whether to log this event, and how many were left out in the second
    /// that just ended (to say so once).
    mutating func admit(atSecond now: Int64) -> (log: Bool, leftOut: Int?) {
        var leftOut: Int?
        if now != second {
            if suppressed > 0 { leftOut = suppressed }
            second = now
            used = 0
            suppressed = 0
        }
        guard used < perSecond else {
            suppressed += 1
            return (false, leftOut)
        }
        used += 1
        return (true, leftOut)
    }
}
