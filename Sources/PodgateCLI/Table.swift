/// One value of a table: text or a number, so `-o json` keeps numbers numeric.
public enum Cell: Sendable, Equatable, Encodable, CustomStringConvertible {
    case text(String)
    case number(UInt64)
    case none

    public var description: String {
        switch self {
        case let .text(text): text
        case let .number(value): String(value)
        case .none: "-"
        }
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case let .text(text): try container.encode(text)
        case let .number(value): try container.encode(value)
        case .none: try container.encodeNil()
        }
    }
}

/// Rows under headings: rendered as aligned columns, or as JSON objects
/// keyed by the column names.
public struct Table: Sendable, Equatable {
    public var title: String
    public var columns: [String]
    public var rows: [[Cell]]
    public var note: String?

    public init(title: String, columns: [String], rows: [[Cell]] = [], note: String? = nil) {
        self.title = title
        self.columns = columns
        self.rows = rows
        self.note = note
    }

    /// Columns padded to the widest cell; the last column is not padded.
    public func render() -> String {
        let texts = rows.map { $0.map(\.description) }
        let widths = columns.indices.map { index in
            max(columns[index].count, texts.map { index < $0.count ? $0[index].count : 0 }.max() ?? 0)
        }
        func line(_ cells: [String]) -> String {
            var out = ""
            for (index, cell) in cells.enumerated() {
                if index == cells.count - 1 { out += cell } else {
                    out += cell + String(repeating: " ", count: widths[index] - cell.count + 2)
                }
            }
            return out
        }
        var out = line(columns.map { $0.uppercased() }) + "\n"
        for row in texts { out += line(row) + "\n" }
        if rows.isEmpty { out += "(none)\n" }
        return out
    }

    /// The rows as objects, keyed by the (lowercase, dash-free) column names.
    public var objects: [[String: Cell]] {
        rows.map { row in
            var object: [String: Cell] = [:]
            for (column, cell) in zip(columns, row) { object[Table.key(column)] = cell }
            return object
        }
    }

    /// `POLICY ENTRY` -> `policyEntry`.
    public static func key(_ column: String) -> String {
        let words = column.lowercased().split(whereSeparator: { $0 == " " || $0 == "-" || $0 == "_" })
        guard let first = words.first else { return column }
        return String(first) + words.dropFirst().map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined()
    }
}

/// `-o table|json`, the flag every data command takes.
public enum OutputFormat: String, Sendable {
    case table, json

    public init(_ arguments: ParsedArguments) throws {
        let text = arguments.value("output") ?? "table"
        guard let format = OutputFormat(rawValue: text) else {
            throw UsageError("-o must be table or json, not \"\(text)\"")
        }
        self = format
    }

    public static let flag = CommandSpec.Flag("output", value: "table|json", default: "table", help: "Output format (also -o)")
}
