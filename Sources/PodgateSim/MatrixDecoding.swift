import PodgateModel

/// The `matrix:` form of `expect`, for large cases. Accepted, leniently:
///
/// ```yaml
/// expect:
///   matrix:
///     ports: [80, 8080]          # required, at least one
///     protocols: [TCP, UDP]      # optional, default [TCP]
///     family: ipv6               # optional, default ipv4, for every cell
///     table:                     # optional wrapper; rows may also sit directly in `matrix`
///       "demo/a -> demo/b": [., X, allow, deny]
///       "host/a -> demo/b": ". X . X"
/// ```
/// A row holds one verdict per (port x protocol), port-major: 80/TCP, 80/UDP,
/// 8080/TCP, 8080/UDP. A verdict is `.`/`allow`, `X`/`x`/`deny`, or `-` (not probed);
/// as a string, verdicts are separated by spaces or written without them (".X.X").
extension ScenarioDecoder {
    mutating func decodeMatrix(_ value: DocumentValue, at field: String) throws -> [Probe] {
        guard let entries = value.mapEntries else { throw error(field, "must be a map with ports, protocols and rows") }
        guard let portsValue = value["ports"] else { throw error("\(field).ports", "is required") }
        let portItems = portsValue.list ?? [portsValue]
        guard !portItems.isEmpty else { throw error("\(field).ports", "must list at least one port") }
        let ports = try portItems.enumerated().map { try decodePort($1, at: "\(field).ports[\($0)]") }
        var protocols: [TransportProtocol] = [.tcp]
        if let raw = value["protocols"] ?? value["protocol"], !raw.isNull {
            let items = raw.list ?? [raw]
            guard !items.isEmpty else { throw error("\(field).protocols", "must list at least one protocol") }
            protocols = try items.enumerated().map { try decodeProtocol($1, at: "\(field).protocols[\($0)]") }
        }
        var family = AddressFamily.ipv4
        if let raw = value["family"], !raw.isNull {
            guard let text = raw.string, let parsed = AddressFamily(rawValue: text) else {
                throw error("\(field).family", "\(quoted(raw)) is not ipv4, ipv6 or ipv4-mapped")
            }
            family = parsed
        }
        var rows: [(key: String, value: DocumentValue)] = []
        if let table = value["table"] {
            guard let tableEntries = table.mapEntries else { throw error("\(field).table", "must be a map of \"FROM -> TO\": [verdicts]") }
            rows += tableEntries
        }
        for entry in entries where !["ports", "protocols", "protocol", "family", "table"].contains(entry.key) {
            guard entry.key.contains("->") else {
                throw error("\(field).\(entry.key)", "is neither ports, protocols, family, table nor a \"FROM -> TO\" row")
            }
            rows.append(entry)
        }
        guard !rows.isEmpty else { throw error(field, "has no \"FROM -> TO\" rows") }

        var cells: [(port: Int, transport: TransportProtocol)] = []
        for port in ports { for transport in protocols { cells.append((port, transport)) } }
        var probes: [Probe] = []
        for row in rows {
            let rowField = "\(field)[\"\(row.key)\"]"
            let ends = row.key.split(separator: "->", omittingEmptySubsequences: false).map(String.init)
            guard ends.count == 2 else { throw error(rowField, "is not \"FROM -> TO\"") }
            let from = try parseEndpoint(ends[0].trimmingWhitespace, at: rowField)
            let to = try parsePodRef(ends[1].trimmingWhitespace, at: rowField)
            let verdicts = try decodeVerdicts(row.value, at: rowField)
            guard verdicts.count == cells.count else {
                throw error(rowField, "has \(verdicts.count) verdicts, expected \(cells.count) (\(ports.count) ports x \(protocols.count) protocols)")
            }
            for (index, (cell, verdict)) in zip(cells, verdicts).enumerated() {
                guard let verdict else { continue }
                probes.append(Probe(from: from, to: to, port: cell.port, transport: cell.transport, family: family,
                                    verdict: verdict, field: "\(rowField)[\(index)]"))
            }
        }
        return probes
    }

    /// nil for `-`: a cell left out.
    func decodeVerdicts(_ value: DocumentValue, at field: String) throws -> [ExpectedVerdict?] {
        var words: [String] = []
        if let items = value.list {
            words = try items.enumerated().map { index, item in
                guard let text = item.string else { throw error("\(field)[\(index)]", "\(quoted(item)) is not a verdict") }
                return text
            }
        } else if let text = value.string {
            let parts = text.split(whereSeparator: { $0.isWhitespace || $0 == "," }).map(String.init)
            // ".X.X" written without spaces: one symbol per character.
            if parts.count == 1, parts[0].count > 1, parts[0].allSatisfy({ ".xX-".contains($0) }) {
                words = parts[0].map { String($0) }
            } else {
                words = parts
            }
        } else {
            throw error(field, "must be a list of verdicts or a string like \". X\"")
        }
        return try words.enumerated().map { index, word in
            switch word {
            case ".", "allow", "Allow", "ALLOW": return .allow
            case "X", "x", "deny", "Deny", "DENY": return .deny
            case "-": return nil
            default: throw error("\(field)[\(index)]", "\"\(word)\" is not a verdict (., X, allow, deny or -)")
            }
        }
    }
}
