import CLibbpf

/// The maps of an opened BPF object, with their names: the one walk over
/// libbpf's list (capacities, pin paths, reuse, the compatibility check).
enum ObjectMaps {
    static func each(_ object: OpaquePointer, _ body: (OpaquePointer, String) throws -> Void) rethrows {
        _ = try all(object) { map, name in try body(map, name); return true }
    }

    /// True when `predicate` holds for every map; stops at the first that fails it.
    static func all(_ object: OpaquePointer, _ predicate: (OpaquePointer, String) throws -> Bool) rethrows -> Bool {
        var map = bpf_object__next_map(object, nil)
        while let current = map {
            guard try predicate(current, String(cString: bpf_map__name(current))) else { return false }
            map = bpf_object__next_map(object, current)
        }
        return true
    }
}
