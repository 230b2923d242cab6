import PodgateModel

/// The outcome of one probe against its expectation.
struct Checked {
    let result: ProbeResult
    let eventProblem: String?   // nil when no event was asked for, or it was seen

    var verdictHeld: Bool { result.allowed == (result.probe.verdict == .allow) }
    var passed: Bool { verdictHeld && eventProblem == nil }

    var failureLine: String? {
        guard !passed else { return nil }
        let probe = result.probe
        var line = "FAIL \(probe.field): \(probe.from) -> \(probe.to) \(probe.column): "
        if !verdictHeld {
            let got = result.allowed.map { $0 ? "allow" : "deny" } ?? "no result"
            line += "expected \(probe.verdict.rawValue), got \(got) (\(result.how))"
        } else {
            line += "\(probe.verdict.rawValue) as expected (\(result.how))"
        }
        if let eventProblem { line += "; " + eventProblem }
        return line
    }
}

/// Prints the matrix: rows `from -> to`, columns `port/proto`, per round.
/// `.` allowed, `X` denied, `!` not what was expected, `?` the probe could not run.
enum MatrixReport {
    static func render(title: String, checked: [Checked]) -> String {
        guard !checked.isEmpty else { return "\(title): no probes\n" }
        var rows: [String] = []
        var columns: [Probe] = []
        var cells: [String: String] = [:]
        for item in checked {
            let probe = item.result.probe
            let row = "\(probe.from) -> \(probe.to)"
            if !rows.contains(row) { rows.append(row) }
            if !columns.contains(where: { $0.column == probe.column }) { columns.append(probe) }
            var symbol = item.result.allowed.map { $0 ? "." : "X" } ?? "?"
            if !item.passed { symbol += "!" }
            cells["\(row)|\(probe.column)"] = symbol
        }
        columns.sort { ($0.port, $0.transport, $0.family.rawValue) < ($1.port, $1.transport, $1.family.rawValue) }
        let labels = columns.map(\.column)
        let rowWidth = rows.map(\.count).max() ?? 0
        func pad(_ text: String, _ width: Int) -> String { text + String(repeating: " ", count: max(0, width - text.count)) }
        var out = "\(title):\n  " + pad("", rowWidth)
        for label in labels { out += "  " + label }
        out += "\n"
        for row in rows {
            var line = "  " + pad(row, rowWidth)
            for label in labels { line += "  " + pad(cells["\(row)|\(label)"] ?? "-", label.count) }
            while line.last == " " { line.removeLast() }
            out += line + "\n"
        }
        return out
    }
}
