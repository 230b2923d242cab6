/// Where a node's agent keeps its things unless told otherwise: the one
/// spelling for the agent, the datapath, the CLI and the simulator.
public enum AgentDefaults {
    /// `--pin-dir`: maps and links, inside bpffs; they outlive the agent.
    public static let pinDirectory = "/sys/fs/bpf/podgate"
    /// `--state-dir`: the control socket and the health address file.
    public static let stateDirectory = "/run/podgate"
    /// `--health-address`: /metrics, /healthz and /readyz.
    public static let healthAddress = "127.0.0.1:9808"

    /// The control socket in a state directory (mode 0600).
    public static func controlSocket(stateDirectory: String) -> String { stateDirectory + "/agent.sock" }

    /// The file where the agent writes the address it serves HTTP on (port 0 picks one).
    public static func healthAddressFile(stateDirectory: String) -> String { stateDirectory + "/health-address" }
}
