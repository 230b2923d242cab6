import CLibbpf
import CPodgateABI
#if canImport(Glibc)
import Glibc
#endif

/// Can the maps pinned in a directory be adopted by this build's object?
/// The same test libbpf makes before reusing a pin (type, key and value
/// size, max entries, flags), made up front for every map so that a mismatch
/// leads to a rebuild with an atomic switch, never to a failed load halfway.
enum MapCompatibility {
    static func matches(_ object: OpaquePointer, directory: String) throws -> Bool {
        let everyMapFits = ObjectMaps.all(object) { current, name in
            let fd = bpf_obj_get(directory + "/" + name)
            guard fd >= 0 else { return false }
            defer { close(fd) }
            var info = bpf_map_info()
            var length = UInt32(MemoryLayout<bpf_map_info>.size)
            guard bpf_obj_get_info_by_fd(fd, &info, &length) == 0 else { return false }
            return info.type == bpf_map__type(current).rawValue
                && info.key_size == bpf_map__key_size(current)
                && info.value_size == bpf_map__value_size(current)
                && info.max_entries == bpf_map__max_entries(current)
                && info.map_flags == bpf_map__map_flags(current)
        }
        guard everyMapFits else { return false }
        // A pinned config that names another ABI version is not adopted either.
        let fd = bpf_obj_get(directory + "/" + PODGATE_MAP_CONFIG)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var zero: UInt32 = 0
        var config = podgate_config()
        guard bpf_map_lookup_elem(fd, &zero, &config) == 0 else { return false }
        return config.abi_version == 0 || config.abi_version == UInt32(PODGATE_ABI_VERSION)
    }
}

/// What the kernel learned by itself and a rebuild must not forget: the
/// decision counters (they stay exact across upgrades) and the dedupe table.
/// The UDP peers of open sockets (podgate_flows, per-socket storage since
/// ABI 3) cannot be walked from user space: a rebuild starts them empty, so a
/// datagram socket's answer in flight during an ABI change is judged as new.
/// Copied entry by entry from the newest other map directory whose map has
/// the same key and value size; everything the agent computes is not copied
/// but written by it (`fillNewMaps`).
enum MapCarryOver {
    static let carried = [PODGATE_MAP_COUNTERS, PODGATE_MAP_REPORTED]

    static func copy(from layout: PinLayout, to staged: DatapathMaps) {
        var sources = [layout.current] + layout.otherMapDirectories().filter { $0 != layout.root }.reversed()
        sources.append(layout.root)
        for name in carried {
            let target = name == PODGATE_MAP_COUNTERS ? staged.countersFD : staged.reportedFD
            for directory in sources where directory != staged.pinDirectory {
                let fd = bpf_obj_get(directory + "/" + name)
                guard fd >= 0 else { continue }
                defer { close(fd) }
                if copyEntries(from: fd, to: target) { break }
            }
        }
    }

    /// Copies every entry when both maps have the same type and sizes.
    /// Per-CPU values are copied whole (one slot per possible CPU).
    static func copyEntries(from source: Int32, to target: Int32) -> Bool {
        guard let a = info(source), let b = info(target), a.type == b.type, a.key_size == b.key_size,
              a.value_size == b.value_size else { return false }
        let perCPU = a.type == BPF_MAP_TYPE_PERCPU_ARRAY.rawValue || a.type == BPF_MAP_TYPE_PERCPU_HASH.rawValue
        let cpus = max(1, Int(libbpf_num_possible_cpus()))
        let valueBytes = perCPU ? ((Int(a.value_size) + 7) / 8 * 8) * cpus : Int(a.value_size)
        var key = [UInt8](repeating: 0, count: Int(a.key_size))
        var next = key
        var value = [UInt8](repeating: 0, count: valueBytes)
        var first = true
        var copied = 0
        while copied < Int(b.max_entries) {
            let step = first ? bpf_map_get_next_key(source, nil, &next) : bpf_map_get_next_key(source, &key, &next)
            if step != 0 { break }
            first = false
            if bpf_map_lookup_elem(source, &next, &value) == 0 {
                _ = bpf_map_update_elem(target, &next, &value, UInt64(BPF_ANY))
                copied += 1
            }
            key = next
        }
        return true
    }

    static func info(_ fd: Int32) -> bpf_map_info? {
        var info = bpf_map_info()
        var length = UInt32(MemoryLayout<bpf_map_info>.size)
        return bpf_obj_get_info_by_fd(fd, &info, &length) == 0 ? info : nil
    }
}
