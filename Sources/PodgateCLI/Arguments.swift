import PodgateModel

/// A small command-line parser: the toolchain ships no argument-parser
/// package and none can be fetched. Flags are `--name value`, `--name=value`
/// or boolean `--name`; repeated flags accumulate.
public struct CommandSpec: Sendable {
    public struct Flag: Sendable {
        public var name: String
        public var value: String?      // placeholder shown in help; nil for a boolean switch
        public var help: String
        public var defaultValue: String?
        public init(_ name: String, value: String? = nil, default defaultValue: String? = nil, help: String) {
            self.name = name
            self.value = value
            self.help = help
            self.defaultValue = defaultValue
        }
    }

    public var name: String            // "podgate agent"
    public var summary: String
    public var usage: String           // "[options]" or "FILE"
    public var flags: [Flag]
    public var details: String

    public init(name: String, summary: String, usage: String = "[options]", flags: [Flag] = [], details: String = "") {
        self.name = name
        self.summary = summary
        self.usage = usage
        self.flags = flags
        self.details = details
    }

    public var helpText: String {
        var text = "\(summary)\n\nUsage: \(name)\(usage.isEmpty ? "" : " " + usage)\n"
        if !flags.isEmpty {
            text += "\nOptions:\n"
            let rendered = flags.map { flag in ("--\(flag.name)" + (flag.value.map { " \($0)" } ?? ""), flag) }
            let width = min(34, (rendered.map(\.0.count).max() ?? 0) + 2)
            for (left, flag) in rendered {
                let pad = String(repeating: " ", count: max(2, width - left.count))
                let suffix = flag.defaultValue.map { " (default: \($0))" } ?? ""
                text += "  \(left)\(pad)\(flag.help)\(suffix)\n"
            }
            text += "  --help\(String(repeating: " ", count: max(2, width - 6)))Show this help\n"
        }
        if !details.isEmpty { text += "\n\(details)\n" }
        return text
    }
}

public struct UsageError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

public struct ParsedArguments: Sendable {
    public var values: [String: [String]] = [:]
    public var switches: Set<String> = []
    public var positional: [String] = []
    public var wantsHelp = false

    public func value(_ name: String) -> String? { values[name]?.last }
    public func all(_ name: String) -> [String] { values[name] ?? [] }
    public func has(_ name: String) -> Bool { switches.contains(name) || values[name] != nil }

    public func string(_ name: String, spec: CommandSpec) -> String? {
        value(name) ?? spec.flags.first(where: { $0.name == name })?.defaultValue
    }

    public func bool(_ name: String, default defaultValue: Bool) throws -> Bool {
        if switches.contains(name) { return true }
        guard let text = value(name) else { return defaultValue }
        switch text.lowercased() {
        case "true", "yes", "1": return true
        case "false", "no", "0": return false
        default: throw UsageError("--\(name) must be true or false, not \"\(text)\"")
        }
    }

    public func int(_ name: String, default defaultValue: Int, range: ClosedRange<Int>) throws -> Int {
        guard let text = value(name) else { return defaultValue }
        guard let number = Int(text), range.contains(number) else {
            throw UsageError("--\(name) must be a whole number in \(range.lowerBound)...\(range.upperBound), not \"\(text)\"")
        }
        return number
    }

    /// Comma-separated and repeated values, flattened.
    public func list(_ name: String) -> [String] {
        all(name).flatMap { $0.split(separator: ",").map { String($0).trimmingWhitespace } }.filter { !$0.isEmpty }
    }
}

public func parseArguments(_ arguments: [String], spec: CommandSpec) throws -> ParsedArguments {
    var parsed = ParsedArguments()
    var index = 0
    while index < arguments.count {
        let argument = arguments[index]
        index += 1
        if argument == "--help" || argument == "-h" { parsed.wantsHelp = true; continue }
        if argument == "--" { parsed.positional += arguments[index...]; break }
        guard argument.hasPrefix("--") else {
            if argument == "-o" {  // the one short flag every data command takes
                guard index < arguments.count else { throw UsageError("-o needs a value (table or json)") }
                parsed.values["output", default: []].append(arguments[index])
                index += 1
                continue
            }
            parsed.positional.append(argument)
            continue
        }
        var name = String(argument.dropFirst(2))
        var inlineValue: String?
        if let equals = name.firstIndex(of: "=") {
            inlineValue = String(name[name.index(after: equals)...])
            name = String(name[..<equals])
        }
        guard let flag = spec.flags.first(where: { $0.name == name }) else {
            throw UsageError("unknown option --\(name) for \(spec.name) (see \(spec.name) --help)")
        }
        if flag.value == nil {
            if let inlineValue { parsed.values[name, default: []].append(inlineValue) } else { parsed.switches.insert(name) }
            continue
        }
        if let inlineValue {
            parsed.values[name, default: []].append(inlineValue)
        } else {
            guard index < arguments.count else { throw UsageError("--\(name) needs a value \(flag.value ?? "")") }
            parsed.values[name, default: []].append(arguments[index])
            index += 1
        }
    }
    return parsed
}
