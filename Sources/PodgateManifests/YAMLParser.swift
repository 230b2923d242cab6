import CYAML
import PodgateModel

/// Reads a multi-document YAML (or JSON) stream into `DocumentValue` trees with
/// libyaml's event API. No type resolution: scalars keep their text and
/// whether they were plain, and the decoder decides what they mean.
public enum YAMLParser {
    public static func parse(_ text: String, limits: YAMLLimits = YAMLLimits()) throws(YAMLError) -> [DocumentValue] {
        try parse(bytes: Array(text.utf8), limits: limits)
    }

    /// Bytes straight from a file: invalid UTF-8 is an error, never repaired.
    public static func parse(bytes: [UInt8], limits: YAMLLimits = YAMLLimits()) throws(YAMLError) -> [DocumentValue] {
        guard bytes.count <= limits.maxInputBytes else {
            throw YAMLError(message: "input larger than \(limits.maxInputBytes) bytes", line: 1, column: 1)
        }
        var parser = yaml_parser_t()
        guard yaml_parser_initialize(&parser) == 1 else {
            throw YAMLError(message: "cannot initialize the YAML parser", line: 1, column: 1)
        }
        defer { yaml_parser_delete(&parser) }
        var builder = YAMLTreeBuilder(limits: limits)
        let result: Result<Void, YAMLError> = bytes.withUnsafeBufferPointer { buffer in
            yaml_parser_set_input_string(&parser, buffer.baseAddress, buffer.count)
            yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING)
            do throws(YAMLError) {
                try readEvents(&parser, into: &builder)
                return .success(())
            } catch {
                return .failure(error)
            }
        }
        try result.get()
        return builder.documents
    }

    private static func readEvents(_ parser: inout yaml_parser_t, into builder: inout YAMLTreeBuilder) throws(YAMLError) {
        while true {
            var event = yaml_event_t()
            guard yaml_parser_parse(&parser, &event) == 1 else { throw parserError(parser) }
            defer { yaml_event_delete(&event) }
            let mark = (Int(event.start_mark.line) + 1, Int(event.start_mark.column) + 1)
            switch event.type {
            case YAML_STREAM_END_EVENT:
                return
            case YAML_DOCUMENT_START_EVENT:
                builder.startDocument()
            case YAML_DOCUMENT_END_EVENT:
                builder.endDocument()
            case YAML_SCALAR_EVENT:
                let scalar = event.data.scalar
                let text = try string(scalar.value, Int(scalar.length), at: mark)
                let tag = try optionalString(scalar.tag, at: mark)
                try builder.scalar(text, plain: isPlain(style: scalar.style, tag: tag),
                                   anchor: try optionalString(scalar.anchor, at: mark), at: mark)
            case YAML_ALIAS_EVENT:
                try builder.alias(try optionalString(event.data.alias.anchor, at: mark) ?? "", at: mark)
            case YAML_SEQUENCE_START_EVENT:
                try builder.startList(anchor: try optionalString(event.data.sequence_start.anchor, at: mark), at: mark)
            case YAML_MAPPING_START_EVENT:
                try builder.startMap(anchor: try optionalString(event.data.mapping_start.anchor, at: mark), at: mark)
            case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT:
                try builder.endCollection(at: mark)
            default:
                continue
            }
        }
    }

    /// Only an untagged plain scalar (or one tagged with a core non-string
    /// type) may later be read as a number, boolean or null.
    /// An explicit core tag decides, whatever the quoting, as kubectl reads
    /// it: `!!int "9000"` is the number 9000, `!!str 8080` the string "8080".
    private static func isPlain(style: yaml_scalar_style_t, tag: String?) -> Bool {
        guard let tag else { return style == YAML_PLAIN_SCALAR_STYLE }
        return ["tag:yaml.org,2002:int", "tag:yaml.org,2002:bool", "tag:yaml.org,2002:null",
                "tag:yaml.org,2002:float"].contains(tag)
    }

    private static func string(_ pointer: UnsafeMutablePointer<yaml_char_t>?, _ length: Int,
                               at mark: (Int, Int)) throws(YAMLError) -> String {
        guard let pointer, length > 0 else { return "" }
        guard let text = String(validating: UnsafeBufferPointer(start: pointer, count: length), as: UTF8.self) else {
            throw YAMLError(message: "invalid UTF-8", line: mark.0, column: mark.1)
        }
        return text
    }

    private static func optionalString(_ pointer: UnsafeMutablePointer<yaml_char_t>?,
                                       at mark: (Int, Int)) throws(YAMLError) -> String? {
        guard let pointer else { return nil }
        var length = 0
        while pointer[length] != 0 { length += 1 }
        return try string(pointer, length, at: mark)
    }

    private static func parserError(_ parser: yaml_parser_t) -> YAMLError {
        var message = parser.problem.map { String(cString: $0) } ?? "invalid YAML"
        if let context = parser.context.map({ String(cString: $0) }) { message += " (\(context))" }
        return YAMLError(message: message, line: Int(parser.problem_mark.line) + 1, column: Int(parser.problem_mark.column) + 1)
    }
}
