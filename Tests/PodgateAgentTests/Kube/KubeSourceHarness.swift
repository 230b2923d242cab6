import Foundation
import PodgateCLI
import PodgateKube
import PodgateKubeFixtures
import PodgateModel
import PodgateTestSupport
@testable import PodgateAgent

/// API paths of the three watched collections.
enum APIPath {
    static let pods = KubeResource.pods.path
    static let namespaces = KubeResource.namespaces.path
    static let policies = KubeResource.networkAuthenticationPolicies.path
}

/// A kubeconfig naming `server`, written in `directory`.
func writeKubeconfig(server: String, in directory: String) throws -> String {
    let path = directory + "/kubeconfig"
    try """
    apiVersion: v1
    kind: Config
    current-context: fixture
    contexts:
      - name: fixture
        context: {cluster: fixture, user: tester}
    clusters:
      - name: fixture
        cluster: {server: "\(server)"}
    users:
      - name: tester
        user: {token: fixture-token}
    """.write(toFile: path, atomically: true, encoding: .utf8)
    return path
}

func makeTemporaryDirectory(_ prefix: String) throws -> String {
    var template = Array("/tmp/\(prefix)-XXXXXX".utf8CString)
    guard let made = mkdtemp(&template) else { throw POSIXError(.EIO) }
    return String(cString: made)
}

/// A KubeSource on the fixture server, with a plain-directory kubelet tree
/// (`<tmp>/kubelet`) as its cgroup root. `close()` removes everything.
final class KubeSourceHarness: @unchecked Sendable {
    // @unchecked: used from one test at a time; the source is driven like the agent drives it.
    let directory: String
    let root: String
    let source: KubeSource
    let wakeups: AsyncStream<Void>
    private let task: Task<Void, Never>
    private(set) var previous = ClusterSnapshot()

    init(server: String, nodeName: String = "worker-1") throws {
        directory = try makeTemporaryDirectory("podgate-kubesource")
        root = directory + "/kubelet"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        let kubeconfig = try writeKubeconfig(server: server, in: directory)
        let options = try AgentOptions(parseArguments(["--kubeconfig", kubeconfig, "--cgroup-root", root, "--node-name", nodeName],
                                                      spec: AgentOptions.spec))
        source = try KubeSource(options: options)
        wakeups = try source.start(cgroupRoot: try source.cgroupRoot())
        let source = self.source
        task = Task(executorPreference: ThreadExecutor.shared) { await source.run() }
    }

    /// Reads like the agent does: `previous` becomes what was read when ready.
    func read() throws -> SourceReading {
        let reading = try source.read(previous: previous)
        if reading.isReady { previous = reading.snapshot }
        return reading
    }

    /// Reads until `done` holds, or gives up after `seconds`; returns the last reading.
    /// Generous: in the full suite, kernel suites that block their threads for
    /// tens of seconds can hold the whole (two-thread) cooperative pool, and
    /// the source's watch tasks wait for it.
    func read(within seconds: Double = 120, until done: (SourceReading) -> Bool) async throws -> SourceReading {
        let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
        var reading = try read()
        while !done(reading), ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(10))
            reading = try read()
        }
        return reading
    }

    /// Creates a kubelet pod cgroup directory (relative to the root) and returns its inode, the cgroup ID.
    @discardableResult
    func makePodDirectory(_ relative: String) throws -> CgroupID {
        let path = root + "/" + relative
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        var info = stat()
        stat(path, &info)
        return CgroupID(UInt64(info.st_ino))
    }

    func close() async {
        source.stop()
        task.cancel()
        await task.value
        try? FileManager.default.removeItem(atPath: directory)
    }
}
