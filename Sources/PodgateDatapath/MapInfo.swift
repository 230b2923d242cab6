import CLibbpf
import CPodgateABI
#if canImport(Glibc)
import Glibc
#endif

extension DatapathMaps {
    /// Map name -> max_entries as the kernel holds it (the ring buffer: bytes).
    public func capacities() throws -> [String: UInt32] {
        var result: [String: UInt32] = [:]
        let descriptors = [endpointsFD, ipcacheFD, cidrsFD, policyFD, flowsFD, eventsFD, countersFD, configFD]
        for (name, fd) in zip(Self.names, descriptors) {
            var info = bpf_map_info()
            var length = UInt32(MemoryLayout<bpf_map_info>.size)
            try DatapathError.check(bpf_obj_get_info_by_fd(fd, &info, &length), "read map info", name)
            result[name] = info.max_entries
        }
        return result
    }

    /// The raw config entry: abi_version 0 means the datapath is not configured.
    public func configuredABIVersion() throws -> UInt32 {
        var zero: UInt32 = 0
        var value = podgate_config()
        try DatapathError.check(bpf_map_lookup_elem(configFD, &zero, &value), "lookup", PODGATE_MAP_CONFIG)
        return value.abi_version
    }
}
