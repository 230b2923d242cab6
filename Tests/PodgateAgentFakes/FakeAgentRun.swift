import Foundation
import PodgateAgent
import PodgateCLI
import PodgateModel
import Synchronization

/// An agent running on the fakes, with its state directory in /tmp: the
/// reconcile loop as the command runs it, without a kernel or privilege.
/// The control socket and the health endpoint (on a free loopback port) run too.
public final class FakeAgentRun: Sendable {
    public let datapath: FakeDatapath
    public let source: FakeClusterSource
    public let options: AgentOptions
    public let stateDirectory: String
    private let task: Task<Void, any Error>
    /// Set when `run` threw: a wait then fails at once with the agent's error.
    private let failure = FailureSlot()

    public init(datapath: FakeDatapath, source: FakeClusterSource) throws {
        var template = Array("/tmp/podgate-fake-agent-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw FakeDatapath.WriteFailure("mkdtemp: errno \(errno)") }
        stateDirectory = String(cString: made)
        options = try Self.options(stateDirectory: stateDirectory)
        self.datapath = datapath
        self.source = source
        let agent = Agent(options: options, datapath: datapath, source: source)
        let failure = self.failure
        task = Task {
            do { try await agent.run() } catch {
                failure.text.withLock { $0 = "\(error)" }
                throw error
            }
        }
    }

    /// The flags of every fake run: node `a`, default-deny inbound. Local
    /// mode, so no environment is read; the fakes ignore the paths they do not use.
    public static func options(stateDirectory: String) throws -> AgentOptions {
        try AgentOptions(parseArguments([
            "--manifests", stateDirectory + "/unused", "--node-name", "a", "--default-inbound-policy", "deny",
            "--state-dir", stateDirectory, "--pin-dir", "/fake/podgate", "--health-address", "127.0.0.1:0",
            "--log-level", "error",
        ], spec: AgentOptions.spec))
    }

    /// `<state-dir>/applied-generation`: the generation the last written (or unchanged) pass holds.
    public var appliedGeneration: Int? { file("applied-generation").flatMap { Int($0) } }
    /// `<state-dir>/apply-error`: the last failed write, until a pass succeeds.
    public var applyError: String? { file("apply-error") }

    private func file(_ name: String) -> String? {
        (try? String(contentsOfFile: stateDirectory + "/" + name, encoding: .utf8))?
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Waits for `condition`; the limit only bounds a hang (a loaded machine is slow), it is not what is tested.
    public func wait(for what: String, seconds: Double = 60, _ condition: () -> Bool) async throws {
        let deadline = Date().addingTimeInterval(seconds)
        while !condition() {
            if let failure = failure.text.withLock({ $0 }) { throw FakeDatapath.WriteFailure("the agent stopped while waiting for \(what): \(failure)") }
            guard Date() < deadline else { throw FakeDatapath.WriteFailure("waited \(Int(seconds)) s for \(what)") }
            try await Task.sleep(for: .milliseconds(5))
        }
    }

    /// Scripts a complete picture of `cluster` and wakes the agent; returns
    /// once the pass is over (`generation` applied, written or unchanged).
    public func pass(_ cluster: (ClusterSnapshot, [PodRef: CgroupID]), generation: Int) async throws {
        source.script(FakeClusterSource.ready(cluster.0, cgroups: cluster.1, generation: generation))
        source.wake()
        try await wait(for: "generation \(generation)") { appliedGeneration == generation }
    }

    /// A test that failed before `stop`: the agent is ended and its directory removed all the same.
    deinit {
        source.finish()
        try? FileManager.default.removeItem(atPath: stateDirectory)
    }

    /// Ends the wake-ups, waits for `run` to return and removes the state directory.
    public func stop() async throws {
        source.finish()
        defer { try? FileManager.default.removeItem(atPath: stateDirectory) }
        try await task.value
    }
}

private final class FailureSlot: Sendable {
    let text = Mutex<String?>(nil)
}
