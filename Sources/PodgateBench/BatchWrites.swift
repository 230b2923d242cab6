import PodgateLab
import CLibbpf
#if canImport(Glibc)
import Glibc
#endif

/// Map-write cost with and without libbpf's batch API (bpf_map_update_batch,
/// one syscall for many entries), measured by rewriting a pinned map's own
/// entries both ways. The writer in PodgateDatapath updates one entry per
/// syscall; this says what batching would save, and which maps allow it.
enum BatchWrites {
    struct Result {
        var entries: Int
        var singleMs: Double
        var batchMs: Double?
        var batchError: String?
    }

    static func measure(mapPath: String) throws -> Result {
        let fd = bpf_obj_get(mapPath)
        guard fd >= 0 else { throw LabError("open \(mapPath): \(errnoText(-fd))") }
        defer { close(fd) }
        var info = bpf_map_info()
        var length = UInt32(MemoryLayout<bpf_map_info>.size)
        guard bpf_obj_get_info_by_fd(fd, &info, &length) == 0 else { throw LabError("map info \(mapPath): \(errnoText())") }
        let keySize = Int(info.key_size), valueSize = Int(info.value_size)

        // Read every entry into two flat arrays.
        var keys: [UInt8] = [], values: [UInt8] = []
        var current = [UInt8](repeating: 0, count: keySize), next = current
        var value = [UInt8](repeating: 0, count: valueSize)
        var first = true
        while true {
            let step = first ? bpf_map_get_next_key(fd, nil, &next) : bpf_map_get_next_key(fd, &current, &next)
            if step != 0 { break }
            first = false
            if bpf_map_lookup_elem(fd, &next, &value) == 0 { keys += next; values += value }
            current = next
        }
        let count = keys.count / max(keySize, 1)
        var result = Result(entries: count, singleMs: 0)
        guard count > 0 else { return result }

        var started = Monotonic.nanoseconds
        keys.withUnsafeBytes { k in
            values.withUnsafeBytes { v in
                for i in 0..<count {
                    _ = bpf_map_update_elem(fd, k.baseAddress! + i * keySize, v.baseAddress! + i * valueSize, UInt64(BPF_ANY))
                }
            }
        }
        result.singleMs = Double(Monotonic.nanoseconds - started) / 1e6

        var done = UInt32(count)
        started = Monotonic.nanoseconds
        let status = keys.withUnsafeBytes { k in
            values.withUnsafeBytes { v in podgate_map_update_batch(fd, k.baseAddress, v.baseAddress, &done, UInt64(BPF_ANY)) }
        }
        if status == 0 {
            result.batchMs = Double(Monotonic.nanoseconds - started) / 1e6
        } else {
            result.batchError = "\(errnoText(-status)) after \(done) entries"
        }
        return result
    }
}
