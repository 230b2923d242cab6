#if canImport(Glibc)
import Glibc
#endif
import PodgateModel

/// Starts `podgate sim-helper ...` children. The executable is a parameter:
/// the CLI passes its own /proc/self/exe; tests pass the built `podgate`.
struct HelperLauncher: Sendable {
    let executable: String
    let logDirectory: String

    func sysctl(netns: String, _ settings: [String]) throws {
        try Interrupts.check()
        let result = try Processes.run(executable, ["sim-helper", "sysctl", "--netns", netns] + settings)
        guard result.status == 0 else { throw SimError("sysctl in \(netns) failed: \(result.output.trimmingWhitespace)") }
    }

    /// Starts the pod's echo server and waits until it has bound every port.
    func startListener(_ pod: Topology.PodHandle, state: RunState) throws -> pid_t? {
        let tcp = pod.pod.ports.filter { $0.transport == .tcp }.map(\.port)
        let udp = pod.pod.ports.filter { $0.transport == .udp }.map(\.port)
        guard !tcp.isEmpty || !udp.isEmpty else { return nil }
        func list(_ ports: [Int]) -> String { Array(Set(ports)).sorted().map(String.init).joined(separator: ",") }
        let log = "\(logDirectory)/listener-\(pod.pod.ref.namespace)_\(pod.pod.ref.name).log"
        let child = try Processes.spawn(executable, ["sim-helper", "listen", "--cgroup", pod.cgroup, "--netns", pod.netns,
                                                     "--tcp", list(tcp), "--udp", list(udp)],
                                        stdout: .pipe, stderr: .file(log))
        state.recordProcess(child.pid)
        defer { close(child.output!) }
        var text = ""
        let deadline = Clock.now + 5
        var buffer = [UInt8](repeating: 0, count: 64)
        while !text.contains("ready") {
            try Interrupts.check()
            guard Sockets.wait(child.output!, for: Int16(POLLIN), until: deadline) else {
                throw SimError("listener of \(pod.pod.ref) did not start within 5 s; see \(log)")
            }
            let n = read(child.output!, &buffer, buffer.count)
            if n > 0 { text += String(decoding: buffer[0..<n], as: UTF8.self); continue }
            if n < 0 && errno == EINTR { continue }
            let reason = (try? Files.read(log))?.trimmingWhitespace ?? ""
            throw SimError("listener of \(pod.pod.ref) exited: \(reason)")
        }
        return child.pid
    }
}
