import Foundation
import PodgateLog
import PodgateCompiler
import PodgateDatapath
import PodgateModel
import Synchronization

/// What the reconcile loop last put into the kernel, published for the
/// control socket, the HTTP endpoint and event enrichment. The loop replaces
/// the whole value after each pass; readers take a consistent copy.
public struct PublishedState: Sendable {
    public var snapshot: ClusterSnapshot
    public var compilation: Compilation
    public var settings: AgentSettings
    public var diagnostics: [Diagnostic]
    /// Source -> RFC 3339 time of its last successful read.
    public var lastSync: [String: String]
    public var lastSyncUnixSeconds: Double
}

public final class AgentView: Sendable {
    public let datapath: any Datapath
    public let hub: EventHub
    public let cgroupRoot: String
    public let stateDirectory: String
    public let startedAt: String
    private let published = Mutex<PublishedState?>(nil)
    private let enricherSlot = Mutex<EventEnricher?>(nil)
    private let timings = Mutex((compile: Histogram(), write: Histogram()))
    private let healthAddressSlot = Mutex<String?>(nil)
    private let repairs = Mutex(0)
    let reader = Mutex<(any DatapathEventFeed)?>(nil)
    /// What `status` says about closing open connections.
    let revocation = Mutex<String?>(nil)

    init(datapath: any Datapath, hub: EventHub, cgroupRoot: String, stateDirectory: String) {
        self.datapath = datapath
        self.hub = hub
        self.cgroupRoot = cgroupRoot
        self.stateDirectory = stateDirectory
        startedAt = Logger.timestamp()
    }

    /// Ready once the first full sync is in the kernel (for /readyz).
    public var isReady: Bool { published.withLock { $0 != nil } }
    public var state: PublishedState? { published.withLock { $0 } }
    var enricher: EventEnricher? { enricherSlot.withLock { $0 } }
    public var healthAddress: String? {
        get { healthAddressSlot.withLock { $0 } }
        set { healthAddressSlot.withLock { $0 = newValue } }
    }
    public var histograms: (compile: Histogram, write: Histogram) { timings.withLock { $0 } }

    func publish(_ state: PublishedState, enricher: EventEnricher) {
        published.withLock { $0 = state }
        enricherSlot.withLock { $0 = enricher }
    }

    /// A pass that found nothing new: the published state stays, only its sync times move.
    func markSynced(_ sources: [String], at time: String, unixSeconds: Double) {
        published.withLock { state in
            guard state != nil else { return }
            for name in sources + ["kernel"] { state?.lastSync[name] = time }
            state?.lastSyncUnixSeconds = unixSeconds
        }
    }

    /// Resyncs whose full compile found the incremental state different (each repaired).
    public var resyncRepairs: Int { repairs.withLock { $0 } }
    func recordResyncRepair() { repairs.withLock { $0 += 1 } }

    func record(compileSeconds: Double, writeSeconds: Double?) {
        timings.withLock { timings in
            timings.compile.observe(compileSeconds)
            if let writeSeconds { timings.write.observe(writeSeconds) }
        }
    }
}
