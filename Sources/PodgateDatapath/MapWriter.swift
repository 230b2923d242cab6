import CLibbpf
import CPodgateABI
import PodgateModel

extension DatapathMaps {
    /// Applies the operations in the given order and stops at the first
    /// failure, which names the operation. Order is the caller's contract
    /// (updates before deletes, so an update never drops allowed traffic).
    /// Rewriting a policy entry resets its hit count.
    public func apply(_ operations: [MapOperation]) throws {
        for operation in operations {
            try apply(operation)
        }
    }

    public func apply(_ operation: MapOperation) throws {
        switch operation {
        case .setConfig(let config):
            try Self.update(configFD, UInt32(0), podgate_config(config), map: PODGATE_MAP_CONFIG, for: operation)
        case .updateCIDR(let cidr, let value):
            try Self.update(cidrsFD, podgate_lpm_addr_key(cidr), podgate_cidr_info(value), map: PODGATE_MAP_CIDRS, for: operation)
        case .updatePolicy(let key, let value):
            try Self.update(policyFD, podgate_policy_key(key), podgate_policy_value(value), map: PODGATE_MAP_POLICY, for: operation)
        case .updateAddress(let address, let value):
            try Self.update(ipcacheFD, podgate_addr(address), podgate_addr_info(value), map: PODGATE_MAP_IPCACHE, for: operation)
        case .updateEndpoint(let cgroup, let value):
            try Self.update(endpointsFD, cgroup.rawValue, podgate_endpoint(value), map: PODGATE_MAP_ENDPOINTS, for: operation)
        case .deleteEndpoint(let cgroup):
            try Self.delete(endpointsFD, cgroup.rawValue, map: PODGATE_MAP_ENDPOINTS, for: operation)
        case .deleteAddress(let address):
            try Self.delete(ipcacheFD, podgate_addr(address), map: PODGATE_MAP_IPCACHE, for: operation)
        case .deletePolicy(let key):
            try Self.delete(policyFD, podgate_policy_key(key), map: PODGATE_MAP_POLICY, for: operation)
        case .deleteCIDR(let cidr):
            try Self.delete(cidrsFD, podgate_lpm_addr_key(cidr), map: PODGATE_MAP_CIDRS, for: operation)
        }
    }

    /// Puts the datapath back to "not configured" (abi_version 0: allow all).
    public func clearConfig() throws {
        try Self.update(configFD, UInt32(0), podgate_config(), map: PODGATE_MAP_CONFIG, for: nil)
    }
}
