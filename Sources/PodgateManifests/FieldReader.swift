import PodgateModel

/// Reads typed fields out of a `DocumentValue`, recording a Diagnostic that
/// names the object and the field path for every wrong type.
///
/// Null and absent are the same (both read as nil), unknown fields are never
/// looked at (forward compatibility), and a string field accepts any non-null
/// scalar: `version: 1` in labels reads as "1". Integers and booleans must be
/// plain scalars: `port: "8080"` is a string (a port name), as in Kubernetes.
struct FieldReader {
    let object: String
    private(set) var problems: [Diagnostic] = []

    init(object: String) { self.object = object }

    mutating func fail(_ field: String, _ message: String) {
        problems.append(Diagnostic(object: object, field: field, message: message))
    }

    func present(_ value: DocumentValue?) -> DocumentValue? {
        guard let value, !value.isNull else { return nil }
        return value
    }

    mutating func map(_ value: DocumentValue?, _ field: String) -> DocumentValue? {
        guard let value = present(value) else { return nil }
        guard value.mapEntries != nil else { fail(field, "must be a map"); return nil }
        return value
    }

    mutating func list(_ value: DocumentValue?, _ field: String) -> [DocumentValue]? {
        guard let value = present(value) else { return nil }
        guard let items = value.list else { fail(field, "must be a list"); return nil }
        return items
    }

    mutating func string(_ value: DocumentValue?, _ field: String) -> String? {
        guard let value = present(value) else { return nil }
        guard case let .scalar(text, _) = value else { fail(field, "must be a string"); return nil }
        return text
    }

    mutating func requiredString(_ value: DocumentValue?, _ field: String) -> String? {
        guard let text = string(value, field) else {
            if present(value) == nil { fail(field, "is required") }
            return nil
        }
        guard !text.isEmpty else { fail(field, "must not be empty"); return nil }
        return text
    }

    mutating func integer(_ value: DocumentValue?, _ field: String) -> Int? {
        guard let value = present(value) else { return nil }
        guard let number = value.integer else { fail(field, "must be an integer"); return nil }
        return number
    }

    mutating func bool(_ value: DocumentValue?, _ field: String) -> Bool? {
        guard let value = present(value) else { return nil }
        guard let flag = value.bool else { fail(field, "must be true or false"); return nil }
        return flag
    }

    /// A map of strings (labels, annotations, matchLabels).
    mutating func stringMap(_ value: DocumentValue?, _ field: String) -> [String: String] {
        guard let entries = map(value, field)?.mapEntries else { return [:] }
        var result: [String: String] = [:]
        for entry in entries {
            guard case let .scalar(text, _) = entry.value, !entry.value.isNull else {
                fail("\(field)[\(entry.key)]", "must be a string")
                continue
            }
            result[entry.key] = text
        }
        return result
    }

    mutating func stringList(_ value: DocumentValue?, _ field: String) -> [String] {
        guard let items = list(value, field) else { return [] }
        return items.enumerated().compactMap { index, item in
            guard case let .scalar(text, _) = item, !item.isNull else {
                fail("\(field)[\(index)]", "must be a string")
                return nil
            }
            return text
        }
    }
}
