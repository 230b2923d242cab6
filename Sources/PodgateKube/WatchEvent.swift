import PodgateModel

/// One event of a watch stream (`{"type": ..., "object": ...}` per line).
public enum WatchEvent: Sendable, Equatable {
    case added(DocumentValue)
    case modified(DocumentValue)
    case deleted(DocumentValue)
    /// The server's progress marker: nothing changed up to this version.
    case bookmark(resourceVersion: String)
    /// A `Status` object: code 410 means the version is too old to resume from.
    case error(code: Int?, message: String)

    /// Decodes one line of the stream; throws a message naming what is wrong.
    public static func decode(line: [UInt8]) throws(WatchEventError) -> WatchEvent {
        let event: DocumentValue
        do { event = try JSONDocument.parse(line) } catch {
            throw WatchEventError(message: "a watch event is not JSON (\(line.count) bytes)")
        }
        guard let type = event["type"]?.string else { throw WatchEventError(message: "a watch event has no type") }
        guard let object = event["object"], object.mapEntries != nil else {
            throw WatchEventError(message: "a \(type) watch event has no object")
        }
        switch type {
        case "ADDED": return .added(object)
        case "MODIFIED": return .modified(object)
        case "DELETED": return .deleted(object)
        case "BOOKMARK":
            guard let version = object.resourceVersion else {
                throw WatchEventError(message: "a BOOKMARK event has no metadata.resourceVersion")
            }
            return .bookmark(resourceVersion: version)
        case "ERROR":
            return .error(code: object["code"]?.integer, message: object["message"]?.string ?? object["reason"]?.string ?? "")
        default:
            throw WatchEventError(message: "unknown watch event type \(type)")
        }
    }
}

extension WatchEvent {
    /// The same event with its object trimmed to what the agent reads.
    func trimmed(by resource: KubeResource) -> WatchEvent {
        switch self {
        case let .added(object): .added(resource.trimmed(object))
        case let .modified(object): .modified(resource.trimmed(object))
        case let .deleted(object): .deleted(resource.trimmed(object))
        case .bookmark, .error: self
        }
    }
}

public struct WatchEventError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}

/// One page of a LIST answer.
public struct ListPage: Sendable, Equatable {
    public var items: [DocumentValue]
    public var resourceVersion: String
    /// Non-nil when more pages follow.
    public var continueToken: String?

    public init(items: [DocumentValue], resourceVersion: String, continueToken: String? = nil) {
        self.items = items
        self.resourceVersion = resourceVersion
        self.continueToken = continueToken
    }

    public static func decode(body: [UInt8]) throws(WatchEventError) -> ListPage {
        let list: DocumentValue
        do { list = try JSONDocument.parse(body) } catch {
            throw WatchEventError(message: "the list answer is not JSON (\(body.count) bytes)")
        }
        guard let version = list.resourceVersion else { throw WatchEventError(message: "the list has no metadata.resourceVersion") }
        guard let items = list["items"].map({ $0.list ?? ($0.isNull ? [] : nil) }) ?? [] else {
            throw WatchEventError(message: "the list's items is not a list")
        }
        let token = list["metadata"]?["continue"]?.string
        return ListPage(items: items, resourceVersion: version, continueToken: token?.isEmpty == false ? token : nil)
    }
}

extension DocumentValue {
    /// `metadata.resourceVersion`, when present and not empty.
    var resourceVersion: String? {
        guard let version = self["metadata"]?["resourceVersion"]?.string, !version.isEmpty else { return nil }
        return version
    }
}

/// Splits a byte stream into newline-terminated lines. Bytes after the last
/// newline wait for the next chunk; at the end of the stream they are a cut
/// event and are dropped, never parsed.
struct LineSplitter {
    private var pending: [UInt8] = []
    /// A line longer than this is not an API object (etcd caps them at 1.5 MB).
    let maximumLineLength: Int

    init(maximumLineLength: Int = 16 << 20) { self.maximumLineLength = maximumLineLength }

    var partialByteCount: Int { pending.count }

    /// The complete lines in `bytes` (plus what was pending), without their newlines.
    mutating func append(_ bytes: UnsafeRawBufferPointer) throws(WatchEventError) -> [[UInt8]] {
        var lines: [[UInt8]] = []
        var start = bytes.startIndex
        for index in bytes.indices where bytes[index] == UInt8(ascii: "\n") {
            pending.append(contentsOf: bytes[start..<index])
            if !pending.allSatisfy({ $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\r") }) { lines.append(pending) }
            pending.removeAll(keepingCapacity: true)
            start = index + 1
        }
        pending.append(contentsOf: bytes[start...])
        if pending.count > maximumLineLength {
            throw WatchEventError(message: "a watch event is longer than \(maximumLineLength) bytes")
        }
        return lines
    }
}
