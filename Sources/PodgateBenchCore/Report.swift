import PodgateModel

/// One figure of a benchmark run: one configuration at one size, one metric.
/// `-o json` writes one of these per line so runs can be compared by a script.
public struct BenchRecord: Hashable, Sendable {
    public var suite: String            // "datapath", "control", "propagation"
    public var configuration: String    // "A none", "B podgate both", "C iptables last", ...
    public var size: String             // "policy=10k addr=100k", "pods=150k", ...
    public var metric: String           // "conn/s", "rr/s", "ns/run", "ms", "MiB"
    public var median: Double
    /// The same metric of configuration A measured in the same run, divided out.
    public var ratioToA: Double?
    /// The confidence interval of `ratioToA` (95%, from paired rounds), when measured.
    public var ratioLow: Double?
    public var ratioHigh: Double?
    public var p99: Double?
    public var runs: Int
    public var note: String

    public init(suite: String, configuration: String, size: String, metric: String, median: Double,
                ratioToA: Double? = nil, p99: Double? = nil, runs: Int = 1, note: String = "") {
        self.suite = suite
        self.configuration = configuration
        self.size = size
        self.metric = metric
        self.median = median
        self.ratioToA = ratioToA
        self.p99 = p99
        self.runs = runs
        self.note = note
    }

    /// `ratioToA` with its interval: "0.970 [0.962, 0.978]".
    public var ratioText: String {
        guard let ratio = ratioToA else { return "" }
        let point = ReportFormat.fixed(ratio, digits: 3)
        guard let low = ratioLow, let high = ratioHigh else { return point }
        return point + " [" + ReportFormat.fixed(low, digits: 3) + ", " + ReportFormat.fixed(high, digits: 3) + "]"
    }
}

public enum ReportFormat {
    /// A compact figure: 3 significant digits, thousands as k and M.
    public static func figure(_ value: Double) -> String {
        let magnitude = abs(value)
        if value.isNaN { return "-" }
        if magnitude >= 10_000_000 { return fixed(value / 1_000_000, digits: 1) + "M" }
        if magnitude >= 100_000 { return fixed(value / 1000, digits: 0) + "k" }
        if magnitude >= 10_000 { return fixed(value / 1000, digits: 1) + "k" }
        if magnitude >= 100 { return fixed(value, digits: 0) }
        if magnitude >= 10 { return fixed(value, digits: 1) }
        if magnitude >= 1 { return fixed(value, digits: 2) }
        return fixed(value, digits: 3)
    }

    /// `value` with `digits` decimals, rounded half away from zero. No Foundation.
    public static func fixed(_ value: Double, digits: Int) -> String {
        var scale = 1.0
        for _ in 0..<digits { scale *= 10 }
        let scaled = (abs(value) * scale).rounded(.toNearestOrAwayFromZero)
        guard scaled < 9e18 else { return String(value) }
        let integer = UInt64(scaled)
        let whole = integer / UInt64(scale)
        var text = (value < 0 && integer != 0 ? "-" : "") + String(whole)
        if digits > 0 {
            let fraction = String(integer % UInt64(scale))
            text += "." + String(repeating: "0", count: digits - fraction.count) + fraction
        }
        return text
    }

    /// A text table: one row per record, columns aligned.
    public static func table(_ records: [BenchRecord]) -> String {
        let header = ["suite", "configuration", "size", "metric", "median", "p99", "ratio to A [95% CI]", "runs", "note"]
        var rows = [header]
        for r in records {
            rows.append([r.suite, r.configuration, r.size, r.metric, figure(r.median), r.p99.map(figure) ?? "",
                         r.ratioText, String(r.runs), r.note])
        }
        return align(rows)
    }

    /// A Markdown table of the same rows (for the README).
    public static func markdown(_ records: [BenchRecord]) -> String {
        var lines = ["| suite | configuration | size | metric | median | p99 | ratio to A [95% CI] | runs | note |",
                     "|---|---|---|---|--:|--:|--:|--:|---|"]
        for r in records {
            let cells = [r.suite, r.configuration, r.size, r.metric, figure(r.median), r.p99.map(figure) ?? "",
                         r.ratioText, String(r.runs), r.note]
            lines.append("| " + cells.map { $0.replacingPipes }.joined(separator: " | ") + " |")
        }
        return lines.joined(separator: "\n")
    }

    static func align(_ rows: [[String]]) -> String {
        let columns = rows.map(\.count).max() ?? 0
        var widths = [Int](repeating: 0, count: columns)
        for row in rows { for (i, cell) in row.enumerated() { widths[i] = max(widths[i], cell.count) } }
        return rows.map { row in
            row.enumerated().map { i, cell in
                i == row.count - 1 ? cell : cell + String(repeating: " ", count: widths[i] - cell.count)
            }.joined(separator: "  ").trailingSpacesRemoved
        }.joined(separator: "\n")
    }

    /// One JSON object, on one line.
    public static func json(_ r: BenchRecord) -> String {
        var fields: [(String, String)] = [
            ("suite", quote(r.suite)), ("configuration", quote(r.configuration)), ("size", quote(r.size)),
            ("metric", quote(r.metric)), ("median", number(r.median)),
            ("ratio_to_a", r.ratioToA.map(number) ?? "null"),
            ("ratio_ci95", r.ratioLow.flatMap { low in r.ratioHigh.map { "[\(number(low)),\(number($0))]" } } ?? "null"), ("p99", r.p99.map(number) ?? "null"),
            ("runs", String(r.runs)),
        ]
        if !r.note.isEmpty { fields.append(("note", quote(r.note))) }
        return "{" + fields.map { "\(quote($0.0)):\($0.1)" }.joined(separator: ",") + "}"
    }

    /// JSON numbers: finite values as Swift prints them (round-trippable), else null.
    static func number(_ value: Double) -> String {
        guard value.isFinite else { return "null" }
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return String(value)
    }

    static func quote(_ text: String) -> String { JSONString.quoted(text) }

    /// 1, 1k, 10k, 100k, 150k, 1.5M: how sizes are named in configurations.
    public static func count(_ n: Int) -> String {
        if n >= 1_000_000, n % 100_000 == 0 { return n % 1_000_000 == 0 ? "\(n / 1_000_000)M" : fixed(Double(n) / 1e6, digits: 1) + "M" }
        if n >= 1000, n % 1000 == 0 { return "\(n / 1000)k" }
        return String(n)
    }
}

extension String {
    var replacingPipes: String { String(map { $0 == "|" ? "/" : $0 }) }
    var trailingSpacesRemoved: String {
        var text = self
        while text.last == " " { text.removeLast() }
        return text
    }
}
