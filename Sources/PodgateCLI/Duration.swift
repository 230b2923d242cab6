/// `--since 5m`-style durations: a number with an optional unit (ms, s, m,
/// h), or several parts such as `1h30m`. A bare number is seconds.
public enum DurationText {
    public static func seconds(_ text: String) throws -> Double {
        let units: [String: Double] = ["ms": 0.001, "s": 1, "m": 60, "h": 3600]
        var total = 0.0
        var number = ""
        var unit = ""
        var parts = 0
        func flush() throws {
            guard let value = Double(number), value >= 0 else { throw UsageError("\"\(text)\" is not a duration such as 30s, 5m or 1h30m") }
            guard let scale = unit.isEmpty ? 1 : units[unit] else {
                throw UsageError("\"\(text)\": unknown unit \"\(unit)\" (use ms, s, m or h)")
            }
            total += value * scale
            parts += 1
            number = ""
            unit = ""
        }
        for character in text {
            if character.isNumber || character == "." {
                if !unit.isEmpty { try flush() }
                number.append(character)
            } else if character.isLetter {
                unit.append(character)
            } else {
                throw UsageError("\"\(text)\" is not a duration such as 30s, 5m or 1h30m")
            }
        }
        if !number.isEmpty || !unit.isEmpty { try flush() }
        guard parts > 0 else { throw UsageError("\"\(text)\" is not a duration such as 30s, 5m or 1h30m") }
        return total
    }
}
