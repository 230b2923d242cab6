import PodgateAgent
import PodgateModel
import Synchronization

/// A cluster source that answers what the test scripted: each `read`
/// returns the current reading, and `wake` starts a reconcile pass.
public final class FakeClusterSource: ClusterSource {
    private struct Script {
        var reading: SourceReading
        var reads = 0
        var continuation: AsyncStream<Void>.Continuation?
    }
    private let script: Mutex<Script>
    private let root: String

    /// `cgroupRoot`: what the programs attach to (the fake datapath only records it).
    public init(cgroupRoot: String = "/fake/cgroup", reading: SourceReading = FakeClusterSource.notReady) {
        root = cgroupRoot
        script = Mutex(Script(reading: reading))
    }

    /// A source that has not listed everything yet.
    public static let notReady = SourceReading(snapshot: ClusterSnapshot(), problems: [], localCgroups: [:], isReady: false,
                                               generation: nil, syncedSources: [])

    /// A complete picture; `generation` is written to `<state-dir>/applied-generation` once in the kernel.
    public static func ready(_ snapshot: ClusterSnapshot, cgroups: [PodRef: CgroupID], generation: Int) -> SourceReading {
        SourceReading(snapshot: snapshot, problems: [], localCgroups: cgroups, isReady: true,
                      generation: generation, syncedSources: ["fake"])
    }

    /// How many times the agent read the source.
    public var reads: Int { script.withLock { $0.reads } }

    /// What the next reads return.
    public func script(_ reading: SourceReading) { script.withLock { $0.reading = reading } }

    /// Starts a reconcile pass (a coalesced wake-up, as the real sources give).
    public func wake() { _ = script.withLock { $0.continuation }?.yield(()) }

    /// Ends the wake-ups: the agent's `run` returns.
    public func finish() { script.withLock { $0.continuation }?.finish() }

    public func cgroupRoot() throws -> String { root }

    public func start(cgroupRoot: String) throws -> AsyncStream<Void> {
        let (stream, continuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        script.withLock { $0.continuation = continuation }
        return stream
    }

    public func run() async {}

    public func stop() { finish() }

    public func read(previous: ClusterSnapshot) throws -> SourceReading {
        script.withLock { script in
            script.reads += 1
            return script.reading
        }
    }
}
