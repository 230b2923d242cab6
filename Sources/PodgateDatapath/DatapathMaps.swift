import CLibbpf
import CPodgateABI
import PodgateModel
#if canImport(Glibc)
import Glibc
#endif

/// The eleven pinned maps, opened by path. Owns one file descriptor per map
/// and closes them on deinit; the pins (and so the maps) remain.
///
/// Sendable without a lock: the stored descriptors never change, and the
/// kernel serialises every map operation (each call is one bpf syscall).
public final class DatapathMaps: Sendable {
    /// The map names of podgate_abi.h, in a stable order.
    public static let names: [String] = [
        PODGATE_MAP_ENDPOINTS, PODGATE_MAP_IPCACHE, PODGATE_MAP_CIDRS, PODGATE_MAP_POLICY,
        PODGATE_MAP_FLOWS, PODGATE_MAP_EVENTS, PODGATE_MAP_COUNTERS, PODGATE_MAP_CONFIG, PODGATE_MAP_REPORTED,
        PODGATE_MAP_EDGES, PODGATE_MAP_EXACT,
    ]

    /// The directory the maps were opened from (`<pin-dir>/v<ABI>`, see `PinLayout`).
    public let pinDirectory: String
    let endpointsFD: Int32
    let ipcacheFD: Int32
    let cidrsFD: Int32
    let policyFD: Int32
    let flowsFD: Int32
    let eventsFD: Int32
    let countersFD: Int32
    let configFD: Int32
    let reportedFD: Int32
    let edgesFD: Int32
    /// Single-port policy entries (hash); `policyFD` holds the shorter prefixes.
    let exactFD: Int32

    /// Opens the maps of this build's ABI version pinned under the agent's
    /// pin directory (by the loader, possibly by an earlier agent process).
    /// Needs no program to be loaded.
    /// `readOnly`: descriptors that cannot write (`maps dump` must not be able
    /// to change what is enforced, even by a bug).
    public convenience init(pinDirectory: String, readOnly: Bool = false) throws {
        let layout = PinLayout(root: pinDirectory)
        guard access(layout.map(PODGATE_MAP_CONFIG, in: layout.current), F_OK) == 0 else {
            let found = PinLayout.entries(pinDirectory).filter { PinLayout.isVersionDirectory($0) || DatapathMaps.names.contains($0) }
            throw DatapathError(operation: "open pinned maps", object: layout.current, errno: ENOENT,
                                detail: "no maps of ABI version \(PODGATE_ABI_VERSION) are pinned there"
                                    + (found.isEmpty ? "; is the agent running with this --pin-dir?" : " (found: \(found.joined(separator: ", ")); an agent of another version owns them)"))
        }
        try self.init(mapDirectory: layout.current, readOnly: readOnly)
    }

    /// Opens the maps pinned directly in `mapDirectory`.
    public init(mapDirectory: String, readOnly: Bool = false) throws {
        let pinDirectory = mapDirectory
        var descriptors: [Int32] = []
        let flags = readOnly ? UInt32(BPF_F_RDONLY) : 0  // options built in C: see shim.h
        do {
            for name in Self.names {
                let path = pinDirectory + "/" + name
                let fd = podgate_obj_get(path, flags)
                guard fd >= 0 else { throw DatapathError(operation: "open pinned map", object: path, errno: -fd) }
                descriptors.append(fd)
            }
        } catch {
            descriptors.forEach { close($0) }
            throw error
        }
        self.pinDirectory = pinDirectory
        (endpointsFD, ipcacheFD, cidrsFD, policyFD) = (descriptors[0], descriptors[1], descriptors[2], descriptors[3])
        (flowsFD, eventsFD, countersFD, configFD) = (descriptors[4], descriptors[5], descriptors[6], descriptors[7])
        reportedFD = descriptors[8]
        edgesFD = descriptors[9]
        exactFD = descriptors[10]
    }

    deinit {
        [endpointsFD, ipcacheFD, cidrsFD, policyFD, flowsFD, eventsFD, countersFD, configFD, reportedFD, edgesFD, exactFD].forEach { close($0) }
    }
}

// MARK: - raw map access shared by the writer and the reader

extension DatapathMaps {
    static func update<Key: BitwiseCopyable, Value: BitwiseCopyable>(_ fd: Int32, _ key: Key, _ value: Value, map: String, for operation: MapOperation?) throws {
        var key = key, value = value
        let result = bpf_map_update_elem(fd, &key, &value, UInt64(BPF_ANY))
        if result < 0 {
            throw DatapathError(operation: "update", object: map, errno: -result, mapOperation: operation)
        }
    }

    /// Deleting an entry that is not there succeeds: deletes are idempotent.
    static func delete<Key: BitwiseCopyable>(_ fd: Int32, _ key: Key, map: String, for operation: MapOperation?) throws {
        var key = key
        let result = bpf_map_delete_elem(fd, &key)
        if result < 0 && result != -ENOENT {
            throw DatapathError(operation: "delete", object: map, errno: -result, mapOperation: operation)
        }
    }

    /// Every (key, value) of a hash or LPM map. Entries deleted while the
    /// walk runs are skipped.
    static func entries<Key: BitwiseCopyable, Value: BitwiseCopyable>(_ fd: Int32, map: String, key: Key, value: Value) throws -> [(Key, Value)] {
        var result: [(Key, Value)] = []
        var current = key
        var next = key
        var hasCurrent = false
        while true {
            let step = hasCurrent ? bpf_map_get_next_key(fd, &current, &next) : bpf_map_get_next_key(fd, nil, &next)
            if step == -ENOENT { break }
            try DatapathError.check(step, "iterate", map)
            var found = value
            let lookup = bpf_map_lookup_elem(fd, &next, &found)
            if lookup == 0 {
                result.append((next, found))
            } else if lookup != -ENOENT {
                try DatapathError.check(lookup, "lookup", map)
            }
            current = next
            hasCurrent = true
        }
        return result
    }
}

extension DatapathMaps {
    /// The descriptor of one of the maps, by its name in podgate_abi.h: how a
    /// second object (bpf/revoke.bpf.c) shares them.
    func descriptor(named name: String) -> Int32? {
        switch name {
        case PODGATE_MAP_ENDPOINTS: endpointsFD
        case PODGATE_MAP_IPCACHE: ipcacheFD
        case PODGATE_MAP_CIDRS: cidrsFD
        case PODGATE_MAP_POLICY: policyFD
        case PODGATE_MAP_EXACT: exactFD
        case PODGATE_MAP_FLOWS: flowsFD
        case PODGATE_MAP_EVENTS: eventsFD
        case PODGATE_MAP_COUNTERS: countersFD
        case PODGATE_MAP_CONFIG: configFD
        case PODGATE_MAP_REPORTED: reportedFD
        default: nil
        }
    }
}
