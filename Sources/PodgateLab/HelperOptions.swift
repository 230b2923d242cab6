/// The in-pod helper's arguments: `--name value` pairs; what is left over
/// (after `--`, or unnamed) is `remaining`. Each subcommand takes the options
/// it knows and calls `finish()`, so a misspelt option is an error, not ignored.
public struct HelperOptions {
    private var values: [String: String] = [:]
    public private(set) var remaining: [String] = []

    public init(_ arguments: [String]) throws {
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            if argument == "--" { remaining += arguments[index...]; break }
            if argument.hasPrefix("--") {
                guard index + 1 < arguments.count else { throw LabError("\(argument) needs a value") }
                values[argument] = arguments[index + 1]
                index += 2
            } else {
                remaining.append(argument)
                index += 1
            }
        }
    }

    public mutating func optional(_ name: String) throws -> String? { values.removeValue(forKey: name) }

    public mutating func required(_ name: String) throws -> String {
        guard let value = values.removeValue(forKey: name) else { throw LabError("\(name) is required") }
        return value
    }

    /// A whole number, `fallback` when absent, checked against `range`.
    public mutating func int(_ name: String, _ fallback: Int, in range: ClosedRange<Int> = 0...Int.max) throws -> Int {
        guard let text = values.removeValue(forKey: name) else { return fallback }
        guard let value = Int(text), range.contains(value) else { throw LabError("\(name) \(text) is not a number in \(range)") }
        return value
    }

    /// A number of seconds (or any non-negative figure), `fallback` when absent.
    public mutating func double(_ name: String, _ fallback: Double) throws -> Double {
        guard let text = values.removeValue(forKey: name) else { return fallback }
        guard let value = Double(text), value >= 0 else { throw LabError("\(name) \(text) is not a number") }
        return value
    }

    public mutating func ports(_ name: String) throws -> [Int] {
        guard let text = try optional(name), !text.isEmpty else { return [] }
        return try text.split(separator: ",").map {
            guard let port = Int($0), (1...65535).contains(port) else { throw LabError("\(name): \($0) is not a port") }
            return port
        }
    }

    /// The program after `--` (or the unnamed arguments).
    public var command: [String] { remaining.first == "--" ? Array(remaining.dropFirst()) : remaining }

    public func finish() throws {
        if let unknown = values.keys.sorted().first { throw LabError("unknown option \(unknown)") }
    }
}
