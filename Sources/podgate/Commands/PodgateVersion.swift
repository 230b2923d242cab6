import CPodgateABI

enum PodgateVersion {
    static let abi = Int(PODGATE_ABI_VERSION)
}
