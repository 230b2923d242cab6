/// A parsed YAML or JSON document, before it is given a Kubernetes meaning.
/// Scalars keep their text and whether they were written plain (unquoted),
/// because only plain YAML scalars may be numbers, booleans or null.
public indirect enum DocumentValue: Sendable, Equatable {
    case scalar(String, plain: Bool)
    case list([DocumentValue])
    case map([(key: String, value: DocumentValue)])

    public static func == (a: DocumentValue, b: DocumentValue) -> Bool {
        switch (a, b) {
        case let (.scalar(x, p), .scalar(y, q)): return x == y && p == q
        case let (.list(x), .list(y)): return x == y
        case let (.map(x), .map(y)):
            return x.count == y.count && zip(x, y).allSatisfy { $0.key == $1.key && $0.value == $1.value }
        default: return false
        }
    }

    public subscript(key: String) -> DocumentValue? {
        if case let .map(entries) = self { return entries.first(where: { $0.key == key })?.value }
        return nil
    }

    /// The text of a scalar, nil for null (`~`, `null`, empty plain) and collections.
    public var string: String? {
        guard case let .scalar(text, plain) = self else { return nil }
        if plain && (text == "~" || text == "null" || text == "Null" || text == "NULL" || text.isEmpty) { return nil }
        return text
    }

    public var isNull: Bool {
        if case let .scalar(text, true) = self { return text == "~" || text == "null" || text == "Null" || text == "NULL" || text.isEmpty }
        return false
    }

    /// An integer written plain (YAML) or as a JSON number.
    public var integer: Int? {
        guard case let .scalar(text, true) = self else { return nil }
        return Int(text)
    }

    public var bool: Bool? {
        guard case let .scalar(text, true) = self else { return nil }
        switch text {
        case "true", "True", "TRUE": return true
        case "false", "False", "FALSE": return false
        default: return nil
        }
    }

    public var list: [DocumentValue]? {
        if case let .list(items) = self { return items }
        return nil
    }

    public var mapEntries: [(key: String, value: DocumentValue)]? {
        if case let .map(entries) = self { return entries }
        return nil
    }
}
