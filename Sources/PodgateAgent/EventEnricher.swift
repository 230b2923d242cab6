#if canImport(Glibc)
import Glibc
#endif
import Foundation
import PodgateLog
import PodgateCompiler
import PodgateDatapath
import PodgateModel

/// Names for the numbers in a kernel event: built once per compilation so the
/// per-event path is a handful of dictionary lookups.
struct EventEnricher: Sendable {
    let node: String
    let snapshot: ClusterSnapshot
    let settings: AgentSettings
    let podsByID: [UInt32: PodRef]
    let podsByCgroup: [CgroupID: PodRef]
    /// CLOCK_REALTIME minus CLOCK_MONOTONIC: event times are monotonic.
    let realtimeOffsetNanoseconds: Int64

    init(compilation: Compilation, snapshot: ClusterSnapshot, settings: AgentSettings) {
        node = settings.nodeName
        self.snapshot = snapshot
        self.settings = settings
        podsByID = compilation.pods
        var byCgroup: [CgroupID: PodRef] = [:]
        for (cgroup, endpoint) in compilation.state.endpoints {
            if let pod = podsByID[endpoint.podID] { byCgroup[cgroup] = pod }
        }
        podsByCgroup = byCgroup
        var realtime = timespec()
        var monotonic = timespec()
        clock_gettime(CLOCK_REALTIME, &realtime)
        clock_gettime(CLOCK_MONOTONIC, &monotonic)
        realtimeOffsetNanoseconds = (Int64(realtime.tv_sec) - Int64(monotonic.tv_sec)) * 1_000_000_000
            + Int64(realtime.tv_nsec) - Int64(monotonic.tv_nsec)
    }

    /// Under a flood most events repeat one connection with a new source
    /// port or pid: the names and the policy analysis are computed once per
    /// (cgroup, side, source, destination, port, protocol) and reused. A new
    /// compilation brings a new, empty cache.
    let cache = EnrichmentCache()

    func record(for event: DatapathEvent) -> EventRecord {
        let key = EnrichmentCache.Key(cgroup: event.cgroup, location: event.location.rawValue, source: event.source,
                                      sourcePodID: event.sourcePodID, destination: event.destination,
                                      destinationPodID: event.destinationPodID, port: event.destinationPort,
                                      transport: event.transportNumber, verdict: event.verdict.rawValue, reason: event.reason.rawValue)
        var record: EventRecord
        if let cached = cache.lookup(key) {
            record = cached
        } else {
            record = analyze(event)
            cache.store(key, record)
        }
        let wallClock = UInt64(max(0, Int64(event.timestampNanoseconds) + realtimeOffsetNanoseconds))
        record.time = Logger.timestamp(unixNanoseconds: wallClock)
        record.srcPort = Int(event.sourcePort)
        record.pid = event.pid.map(Int.init)
        record.comm = event.command
        return record
    }

    private func analyze(_ event: DatapathEvent) -> EventRecord {
        let isClient = event.location == .client
        // A forged source (egress): the sender is the pod of the cgroup, the
        // source address is the one it forged (kept as is below).
        let isEgress = event.location == .egress
        let sourcePod = isClient || isEgress ? (podsByCgroup[event.cgroup] ?? podsByID[event.sourcePodID]) : podsByID[event.sourcePodID]
        let destinationPod = podsByID[event.destinationPodID] ?? (isClient || isEgress ? nil : podsByCgroup[event.cgroup])
        let family: IPFamily = event.destination.isIPv4 ? .ipv4 : .ipv6
        // The client side decides before the source address is chosen: name the
        // address the pod sends from in that family.
        var source = event.source
        if isClient, let sourcePod, let pod = snapshot.pods[sourcePod],
           let address = pod.addresses.first(where: { $0.isIPv4 == event.destination.isIPv4 }) {
            source = address
        }
        var considered: [String] = []
        var nearestMiss: [String]?
        var defaultPolicy: String?
        if !isEgress, let destinationPod, let transport = event.transport {
            let from: TrafficSource = sourcePod.map { .pod($0) } ?? .address(source)
            let verdict = Decision.evaluate(snapshot, settings: settings, from: from, to: destinationPod,
                                            port: Int(event.destinationPort), transport: transport, family: family)
            considered = verdict?.policiesConsidered.map(\.description) ?? []
            nearestMiss = PolicyWording.nearestMiss(snapshot, target: destinationPod)
            if case let .defaultPolicy(policy)? = verdict?.basis, let pod = snapshot.pods[destinationPod] {
                defaultPolicy = "\(policy.rawValue) (\(PolicyWording.defaultPolicyOrigin(of: pod, in: snapshot)))"
            }
        }
        let wallClock = UInt64(max(0, Int64(event.timestampNanoseconds) + realtimeOffsetNanoseconds))
        return EventRecord(event, time: Logger.timestamp(unixNanoseconds: wallClock), node: node, source: source.description,
                           srcPod: sourcePod?.description, srcKind: Self.kind(of: event.sourceIdentity, known: sourcePod != nil),
                           dstPod: destinationPod?.description, policies: considered, nearestMiss: nearestMiss,
                           defaultPolicy: defaultPolicy)
    }

    static func kind(of identity: IdentityID, known: Bool) -> EventRecord.SourceKind {
        known ? .pod : EventRecord.SourceKind(identity: identity)
    }
}

/// Enriched records by connection, bounded (cleared when full). Used only
/// by the event thread, but lives in a Sendable enricher: guarded by a lock.
final class EnrichmentCache: @unchecked Sendable {
    // @unchecked: `entries` is guarded by `lock`.
    struct Key: Hashable {
        var cgroup: CgroupID
        var location: UInt8
        var source: IPAddress
        var sourcePodID: UInt32
        var destination: IPAddress
        var destinationPodID: UInt32
        var port: UInt16
        var transport: UInt8
        var verdict: UInt8
        var reason: UInt8
    }
    static let limit = 4096
    private let lock = NSLock()
    private var entries: [Key: EventRecord] = [:]

    func lookup(_ key: Key) -> EventRecord? { lock.withLock { entries[key] } }

    func store(_ key: Key, _ record: EventRecord) {
        lock.withLock {
            if entries.count >= Self.limit { entries.removeAll(keepingCapacity: true) }
            entries[key] = record
        }
    }
}
