#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import PodgateModel

/// JSON text -> `DocumentValue`, through the toolchain's `JSONDecoder` (no
/// hand-written tokenizer). JSON numbers, booleans and null become plain
/// scalars, JSON strings quoted ones, so the manifest decoder treats an API
/// object exactly like the same object written in YAML.
public enum JSONDocument {
    public static func parse(_ bytes: [UInt8]) throws -> DocumentValue {
        try JSONDecoder().decode(Node.self, from: Data(bytes)).value
    }

    public static func parse(_ text: String) throws -> DocumentValue {
        try parse(Array(text.utf8))
    }

    /// Probes a value's JSON type in order of how often it occurs in API
    /// objects (strings, then objects), since each failed probe throws.
    private struct Node: Decodable {
        let value: DocumentValue

        init(from decoder: any Decoder) throws {
            let single = try decoder.singleValueContainer()
            if single.decodeNil() { value = .scalar("null", plain: true); return }
            if let text = try? single.decode(String.self) { value = .scalar(text, plain: false); return }
            if let object = try? decoder.container(keyedBy: Key.self) {
                // JSON objects are unordered; sort so equal objects compare equal.
                let keys = object.allKeys.sorted { $0.stringValue < $1.stringValue }
                value = .map(try keys.map { (key: $0.stringValue, value: try object.decode(Node.self, forKey: $0).value) })
                return
            }
            if var array = try? decoder.unkeyedContainer() {
                var items: [DocumentValue] = []
                while !array.isAtEnd { items.append(try array.decode(Node.self).value) }
                value = .list(items)
                return
            }
            if let flag = try? single.decode(Bool.self) { value = .scalar(flag ? "true" : "false", plain: true); return }
            if let integer = try? single.decode(Int64.self) { value = .scalar(String(integer), plain: true); return }
            if let integer = try? single.decode(UInt64.self) { value = .scalar(String(integer), plain: true); return }
            let number = try single.decode(Double.self)
            value = .scalar(String(number), plain: true)
        }
    }

    private struct Key: CodingKey {
        let stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }
}
