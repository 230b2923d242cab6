import Foundation
import PodgateModel

/// JSON text -> `DocumentValue`, through the toolchain's JSON parser (no
/// hand-written tokenizer). JSON numbers, booleans and null become plain
/// scalars, JSON strings quoted ones, so the manifest decoder treats an API
/// object exactly like the same object written in YAML.
///
/// Why JSONSerialization and not JSONDecoder: a generic JSON tree through
/// `Decodable` must probe each value's type by catching errors, which made
/// a 2000-pod list take 2-3 s; JSONSerialization parses it in about 0.2 s.
/// Foundation is linked by the agent anyway.
public enum JSONDocument {
    public static func parse(_ bytes: [UInt8]) throws -> DocumentValue {
        convert(try JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed]))
    }

    public static func parse(_ text: String) throws -> DocumentValue {
        try parse(Array(text.utf8))
    }

    private static func convert(_ value: Any) -> DocumentValue {
        switch value {
        case let text as String:
            return .scalar(text, plain: false)
        case let object as [String: Any]:
            // JSON objects are unordered; sort so equal objects compare equal.
            return .map(object.keys.sorted().map { (key: $0, value: convert(object[$0] as Any)) })
        case let array as [Any]:
            return .list(array.map(convert))
        case let number as NSNumber:
            return .scalar(text(of: number), plain: true)
        default:
            return .scalar("null", plain: true)   // NSNull
        }
    }

    private static func text(of number: NSNumber) -> String {
        // JSON true/false arrive as boolean NSNumbers (type "c"); the parser
        // stores every integer as a wider type, so "c" is never a number.
        switch String(cString: number.objCType) {
        case "c", "B": return number.boolValue ? "true" : "false"
        case "f", "d": return "\(number.doubleValue)"
        case "Q": return "\(number.uint64Value)"
        default: return "\(number.int64Value)"
        }
    }
}
