import CLibbpf
import CPodgateABI
import PodgateModel

extension DatapathMaps {
    /// Applies the operations in the given order and stops at the first
    /// failure, which names the operation. Order is the caller's contract
    /// (updates before deletes, so an update never drops allowed traffic).
    /// Rewriting a policy entry resets its hit count.
    public func apply(_ operations: [MapOperation]) throws {
        var index = 0
        while index < operations.count {
            // A run of updates to one map goes in one syscall (2-3x faster
            // on large diffs); order within a run does not matter, order
            // between runs is kept.
            let run = Self.updateRun(in: operations, from: index)
            if run > 1, batchUpdate(operations[index..<(index + run)]) {
                index += run
                continue
            }
            try apply(operations[index])
            index += 1
        }
    }

    /// How many operations from `start` update the same map as the first.
    static func updateRun(in operations: [MapOperation], from start: Int) -> Int {
        guard let kind = updateKind(operations[start]) else { return 1 }
        var end = start + 1
        while end < operations.count, updateKind(operations[end]) == kind { end += 1 }
        return end - start
    }

    private static func updateKind(_ operation: MapOperation) -> Int? {
        switch operation {
        case .updateCIDR: 1
        case .updatePolicy: 2
        case .updateAddress: 3
        case .updateEndpoint: 4
        default: nil
        }
    }

    /// One `bpf_map_update_batch` for a run of same-map updates. False when
    /// the kernel refuses it (older kernels, a full map): the caller then
    /// writes the run one entry at a time, which names the failing entry.
    /// Updates are idempotent, so entries the batch already wrote are harmless.
    func batchUpdate(_ run: ArraySlice<MapOperation>) -> Bool {
        var pairs: (keys: [UInt8], values: [UInt8]) = ([], [])
        var fd: Int32 = -1
        func add<Key: BitwiseCopyable, Value: BitwiseCopyable>(_ map: Int32, _ key: Key, _ value: Value) {
            fd = map
            withUnsafeBytes(of: key) { pairs.keys += $0 }
            withUnsafeBytes(of: value) { pairs.values += $0 }
        }
        for operation in run {
            switch operation {
            case .updateCIDR(let cidr, let value): add(cidrsFD, podgate_lpm_addr_key(cidr), podgate_cidr_info(value))
            case .updatePolicy(let key, let value):
                // A run may mix both policy maps: one batch per map only.
                guard fd < 0 || fd == policyMap(key).fd else { return false }
                add(policyMap(key).fd, podgate_policy_key(key), podgate_policy_value(value))
            case .updateAddress(let address, let value): add(ipcacheFD, podgate_addr(address), podgate_addr_info(value))
            case .updateEndpoint(let cgroup, let value): add(endpointsFD, cgroup.rawValue, podgate_endpoint(value))
            default: return false
            }
        }
        var count = UInt32(run.count)
        let status = pairs.keys.withUnsafeBytes { keys in
            pairs.values.withUnsafeBytes { values in
                podgate_map_update_batch(fd, keys.baseAddress, values.baseAddress, &count, UInt64(BPF_ANY))
            }
        }
        return status == 0 && count == UInt32(run.count)
    }

    public func apply(_ operation: MapOperation) throws {
        switch operation {
        case .setConfig(let config):
            try Self.update(configFD, UInt32(0), podgate_config(config), map: PODGATE_MAP_CONFIG, for: operation)
        case .updateCIDR(let cidr, let value):
            try Self.update(cidrsFD, podgate_lpm_addr_key(cidr), podgate_cidr_info(value), map: PODGATE_MAP_CIDRS, for: operation)
        case .updatePolicy(let key, let value):
            let (fd, name) = policyMap(key)
            try Self.update(fd, podgate_policy_key(key), podgate_policy_value(value), map: name, for: operation)
        case .updateAddress(let address, let value):
            try Self.update(ipcacheFD, podgate_addr(address), podgate_addr_info(value), map: PODGATE_MAP_IPCACHE, for: operation)
        case .updateEndpoint(let cgroup, let value):
            try Self.update(endpointsFD, cgroup.rawValue, podgate_endpoint(value), map: PODGATE_MAP_ENDPOINTS, for: operation)
        case .deleteEndpoint(let cgroup):
            try Self.delete(endpointsFD, cgroup.rawValue, map: PODGATE_MAP_ENDPOINTS, for: operation)
        case .deleteAddress(let address):
            try Self.delete(ipcacheFD, podgate_addr(address), map: PODGATE_MAP_IPCACHE, for: operation)
        case .deletePolicy(let key):
            let (fd, name) = policyMap(key)
            try Self.delete(fd, podgate_policy_key(key), map: name, for: operation)
        case .deleteCIDR(let cidr):
            try Self.delete(cidrsFD, podgate_lpm_addr_key(cidr), map: PODGATE_MAP_CIDRS, for: operation)
        }
    }

    /// One port (the whole key): the hash map; a shorter prefix: the trie.
    func policyMap(_ key: PolicyKey) -> (fd: Int32, name: String) {
        key.prefixLength == Int(PODGATE_POLICY_KEY_BITS) ? (exactFD, PODGATE_MAP_EXACT) : (policyFD, PODGATE_MAP_POLICY)
    }

    /// Puts the datapath back to "not configured" (abi_version 0: allow all).
    public func clearConfig() throws {
        try Self.update(configFD, UInt32(0), podgate_config(), map: PODGATE_MAP_CONFIG, for: nil)
    }
}
