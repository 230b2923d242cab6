import PodgateModel

/// DocumentValue -> JSON text, so the agent reads exactly what the scenario
/// wrote. Only plain scalars are typed (YAML 1.2 core schema): integers become
/// numbers, true/false booleans, `~`/`null`/empty null; everything else,
/// including quoted "8080", floats and `yes`, stays a string.
public enum JSONEmitter {
    public static func emit(_ value: DocumentValue) -> String {
        var out = ""
        write(value, into: &out)
        return out
    }

    static func write(_ value: DocumentValue, into out: inout String) {
        switch value {
        case .scalar(let text, let plain):
            if plain {
                if value.isNull { out += "null"; return }
                if let flag = value.bool { out += flag ? "true" : "false"; return }
                // Int() accepts "+5" and "007": re-print so the JSON is a valid number.
                if let number = Int(text) { out += String(number); return }
            }
            writeString(text, into: &out)
        case .list(let items):
            out += "["
            for (index, item) in items.enumerated() {
                if index > 0 { out += "," }
                write(item, into: &out)
            }
            out += "]"
        case .map(let entries):
            out += "{"
            for (index, entry) in entries.enumerated() {
                if index > 0 { out += "," }
                writeString(entry.key, into: &out)
                out += ":"
                write(entry.value, into: &out)
            }
            out += "}"
        }
    }

    static func writeString(_ text: String, into out: inout String) {
        out += JSONString.quoted(text)
    }
}
