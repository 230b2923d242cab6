internal import CPodgateABI // the capacities are the header's numbers, never a copy

/// Each map's default number of entries, as podgate_abi.h defines it for
/// bpf/lib/maps.h: the compiler's fit check (`StateLimits`) and the agent's
/// `--max-*` flags start from these.
public enum MapCapacityDefaults {
    public static let endpoints = Int(PODGATE_ENDPOINTS_MAX)
    public static let addresses = Int(PODGATE_IPCACHE_MAX)
    public static let cidrs = Int(PODGATE_CIDRS_MAX)
    public static let policy = Int(PODGATE_POLICY_MAX)
    public static let flows = Int(PODGATE_FLOWS_MAX)
}
