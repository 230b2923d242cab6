#if canImport(Glibc)
import Glibc
#endif
import PodgateModel

/// Starts the pods' `podgate sim-helper listen` children. The executable is a parameter:
/// the CLI passes its own /proc/self/exe; tests pass the built `podgate`.
struct HelperLauncher: Sendable {
    let executable: String
    let logDirectory: String

    /// Starts the pod's echo server and waits until it has bound every port.
    func startListener(_ pod: Topology.PodHandle, state: CleanupRegistry) throws -> pid_t? {
        let tcp = pod.pod.ports.filter { $0.transport == .tcp }.map(\.port)
        let udp = pod.pod.ports.filter { $0.transport == .udp }.map(\.port)
        guard !tcp.isEmpty || !udp.isEmpty else { return nil }
        func list(_ ports: [Int]) -> String { Array(Set(ports)).sorted().map(String.init).joined(separator: ",") }
        let log = "\(logDirectory)/listener-\(pod.pod.ref.namespace)_\(pod.pod.ref.name).log"
        return try InPodHelper.startServing(executable: executable, ["listen", "--cgroup", pod.cgroup, "--netns", pod.netns,
                                                                    "--tcp", list(tcp), "--udp", list(udp)],
                                            what: "listener of \(pod.pod.ref)", log: log, started: state.recordProcess)
    }
}
