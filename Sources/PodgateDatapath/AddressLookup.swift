import CLibbpf
import CPodgateABI
import PodgateModel
#if canImport(Glibc)
import Glibc
#endif

extension DatapathMaps {
    /// One address's entry in the kernel, by key: what a poller needs when
    /// reading the whole map (150k entries at 150k pods) would cost more
    /// than the change it waits for.
    public func addressEntry(_ address: IPAddress) throws -> AddressValue? {
        var key = podgate_addr(address)
        var value = podgate_addr_info()
        let result = bpf_map_lookup_elem(ipcacheFD, &key, &value)
        if result == -ENOENT { return nil }
        try DatapathError.check(result, "lookup", PODGATE_MAP_IPCACHE)
        return try AddressValue(value)
    }
}
