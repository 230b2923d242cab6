import PodgateModel

/// Turns a stream of YAML events into `DocumentValue` trees while enforcing
/// `YAMLLimits`. Kept apart from libyaml so the bookkeeping (depth, node
/// counts, anchors, duplicate keys) reads on its own.
struct YAMLTreeBuilder {
    /// A finished value with what it costs when an alias repeats it.
    struct Built {
        var value: DocumentValue
        var nodes: Int
        var height: Int
    }

    private enum Collection {
        case list([DocumentValue])
        case map([(key: String, value: DocumentValue)], pendingKey: String?, seen: Set<String>)
    }

    /// Merge keys (`<<: *base`, `<<: [*a, *b]`), as kubectl reads them: the
    /// map's own keys win, then the sources in order. Pending per open map.
    private struct Merge {
        var sources: [DocumentValue] = []
        var awaitingValue = false
    }

    private struct Frame {
        var collection: Collection
        var anchor: String?
        var merge = Merge()
        var nodes = 1
        var height = 1
    }

    let limits: YAMLLimits
    private var stack: [Frame] = []
    private var anchors: [String: Built] = [:]
    private var totalNodes = 0
    private(set) var documents: [DocumentValue] = []
    private var root: DocumentValue?

    init(limits: YAMLLimits) { self.limits = limits }

    mutating func startDocument() {
        anchors = [:]
        root = nil
    }

    mutating func endDocument() {
        // An empty document reads as null, like every YAML library does.
        documents.append(root ?? .scalar("", plain: true))
    }

    mutating func scalar(_ text: String, plain: Bool, anchor: String?, at mark: (Int, Int)) throws(YAMLError) {
        guard text.utf8.count <= limits.maxScalarBytes else {
            throw YAMLError(message: "scalar longer than \(limits.maxScalarBytes) bytes", line: mark.0, column: mark.1)
        }
        try count(1, at: mark)
        try complete(Built(value: .scalar(text, plain: plain), nodes: 1, height: 1), anchor: anchor, at: mark)
    }

    mutating func alias(_ name: String, at mark: (Int, Int)) throws(YAMLError) {
        // An anchor is registered only once its node is complete, so an alias
        // can never point into itself.
        guard let built = anchors[name] else {
            throw YAMLError(message: "unknown anchor '\(name)'", line: mark.0, column: mark.1)
        }
        guard stack.count + built.height <= limits.maxDepth else {
            throw YAMLError(message: "nesting deeper than \(limits.maxDepth)", line: mark.0, column: mark.1)
        }
        try count(built.nodes, at: mark)
        try complete(built, anchor: nil, at: mark)
    }

    mutating func startList(anchor: String?, at mark: (Int, Int)) throws(YAMLError) {
        try open(.list([]), anchor: anchor, at: mark)
    }

    mutating func startMap(anchor: String?, at mark: (Int, Int)) throws(YAMLError) {
        try open(.map([], pendingKey: nil, seen: []), anchor: anchor, at: mark)
    }

    mutating func endCollection(at mark: (Int, Int)) throws(YAMLError) {
        guard let frame = stack.popLast() else {
            throw YAMLError(message: "unbalanced collection end", line: mark.0, column: mark.1)
        }
        let value: DocumentValue
        switch frame.collection {
        case let .list(items): value = .list(items)
        case let .map(entries, _, _):
            value = .map(try Self.merged(entries, frame.merge.sources, at: mark))
        }
        try complete(Built(value: value, nodes: frame.nodes, height: frame.height), anchor: frame.anchor, at: mark)
    }

    private mutating func open(_ collection: Collection, anchor: String?, at mark: (Int, Int)) throws(YAMLError) {
        if case .map(_, nil, _)? = stack.last?.collection {
            throw YAMLError(message: "mapping keys must be scalars", line: mark.0, column: mark.1)
        }
        guard stack.count < limits.maxDepth else {
            throw YAMLError(message: "nesting deeper than \(limits.maxDepth)", line: mark.0, column: mark.1)
        }
        try count(1, at: mark)
        stack.append(Frame(collection: collection, anchor: anchor))
    }

    private mutating func count(_ nodes: Int, at mark: (Int, Int)) throws(YAMLError) {
        totalNodes += nodes
        guard totalNodes <= limits.maxNodes else {
            throw YAMLError(message: "more than \(limits.maxNodes) nodes (aliases count every time they are used)",
                            line: mark.0, column: mark.1)
        }
    }

    /// Attaches a finished value to its parent (or makes it the document root).
    private mutating func complete(_ built: Built, anchor: String?, at mark: (Int, Int)) throws(YAMLError) {
        if let anchor { anchors[anchor] = built }
        guard var parent = stack.popLast() else {
            root = built.value
            return
        }
        parent.nodes += built.nodes
        parent.height = max(parent.height, built.height + 1)
        switch parent.collection {
        case var .list(items):
            parent.collection = .list([])   // drop the frame's reference: append in place, no copy
            items.append(built.value)
            parent.collection = .list(items)
        case .map(let entries, nil, var seen):
            guard case let .scalar(key, _) = built.value else {
                throw YAMLError(message: "mapping keys must be scalars", line: mark.0, column: mark.1)
            }
            // Drop the frame's reference first, so the set is inserted into in
            // place: otherwise every key copies it (quadratic: 20k labels took seconds).
            parent.collection = .list([])
            guard seen.insert(key).inserted else {
                throw YAMLError(message: "duplicate mapping key '\(key)'", line: mark.0, column: mark.1)
            }
            if key == "<<", case .scalar(_, plain: true) = built.value { parent.merge.awaitingValue = true }
            parent.collection = .map(entries, pendingKey: key, seen: seen)
        case .map(var entries, let key?, let seen):
            parent.collection = .list([])   // as above
            if parent.merge.awaitingValue {
                parent.merge.awaitingValue = false
                parent.merge.sources.append(built.value)
            } else {
                entries.append((key: key, value: built.value))
            }
            parent.collection = .map(entries, pendingKey: nil, seen: seen)
        }
        stack.append(parent)
    }

    /// The map's own entries, then each merge source's keys not yet present.
    private static func merged(_ entries: [(key: String, value: DocumentValue)], _ sources: [DocumentValue],
                               at mark: (Int, Int)) throws(YAMLError) -> [(key: String, value: DocumentValue)] {
        guard !sources.isEmpty else { return entries }
        var result = entries
        var present = Set(entries.map(\.key))
        for source in sources {
            let maps: [DocumentValue]
            switch source {
            case .map: maps = [source]
            case let .list(items): maps = items
            case .scalar: throw YAMLError(message: "a merge key '<<' needs a map or a list of maps", line: mark.0, column: mark.1)
            }
            for map in maps {
                guard let mapEntries = map.mapEntries else {
                    throw YAMLError(message: "a merge key '<<' needs a map or a list of maps", line: mark.0, column: mark.1)
                }
                for entry in mapEntries where present.insert(entry.key).inserted { result.append(entry) }
            }
        }
        return result
    }
}
