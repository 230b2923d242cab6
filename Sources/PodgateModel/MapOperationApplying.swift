extension DesiredState {
    /// What the maps hold after `operations` were written to `self`, in
    /// order: the model of a write that the compiler's tests and the agent's
    /// fake datapath check diffs against.
    public func applying(_ operations: [MapOperation]) -> DesiredState {
        var state = self
        for operation in operations {
            switch operation {
            case let .setConfig(config): state.config = config
            case let .updateCIDR(key, value): state.cidrs[key] = value
            case let .updatePolicy(key, value): state.policy[key] = value
            case let .updateAddress(key, value): state.addresses[key] = value
            case let .updateEndpoint(key, value): state.endpoints[key] = value
            case let .deleteEndpoint(key): state.endpoints[key] = nil
            case let .deleteAddress(key): state.addresses[key] = nil
            case let .deletePolicy(key): state.policy[key] = nil
            case let .deleteCIDR(key): state.cidrs[key] = nil
            }
        }
        return state
    }
}
