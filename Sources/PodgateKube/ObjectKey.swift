import PodgateModel

/// One object of a resource: namespace/name plus uid, so a pod deleted and
/// recreated under the same name is a different object.
public struct ObjectKey: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// nil for cluster-scoped objects (Namespaces).
    public var namespace: String?
    public var name: String
    public var uid: String

    public init(namespace: String?, name: String, uid: String) {
        self.namespace = namespace
        self.name = name
        self.uid = uid
    }

    /// The key of an API object, from `metadata`; nil when it has no name.
    public init?(object: DocumentValue) {
        guard let metadata = object["metadata"], let name = metadata["name"]?.string, !name.isEmpty else { return nil }
        self.init(namespace: metadata["namespace"]?.string, name: name, uid: metadata["uid"]?.string ?? "")
    }

    public var description: String {
        let path = namespace.map { "\($0)/\(name)" } ?? name
        return uid.isEmpty ? path : "\(path) (\(uid))"
    }

    public static func < (a: Self, b: Self) -> Bool {
        (a.namespace ?? "", a.name, a.uid) < (b.namespace ?? "", b.name, b.uid)
    }
}

/// What a list/watch tells its consumer, in order.
public enum ResourceChange: Sendable, Equatable {
    /// A complete, fresh list: replaces everything known of the resource.
    case synced([ObjectKey: DocumentValue])
    case upsert(ObjectKey, DocumentValue)
    case delete(ObjectKey)
}

/// The objects of one resource as the consumer holds them: the result of
/// applying changes in order. Only `synced` ever removes objects wholesale,
/// so a dropped stream leaves the last known state in place.
public struct ObjectStore: Sendable, Equatable {
    public private(set) var objects: [ObjectKey: DocumentValue] = [:]
    /// False until the first complete list: an empty store then means
    /// "not known yet", never "nothing exists".
    public private(set) var hasSynced = false

    public init() {}

    public mutating func apply(_ change: ResourceChange) {
        switch change {
        case let .synced(all):
            objects = all
            hasSynced = true
        case let .upsert(key, object):
            objects[key] = object
        case let .delete(key):
            objects[key] = nil
        }
    }
}
