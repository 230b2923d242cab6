import CPodgateABI
import PodgateDatapath
import PodgateModel

/// Gathers `podgate status` from the agent's view and the kernel.
enum StatusBuilder {
    static let version = "0.1.0"

    static func build(_ view: AgentView) -> StatusReport {
        let state = view.state
        let compiled = state?.compilation
        var problems: [String] = []
        var programs: [StatusReport.Program] = []
        do {
            for (hook, ids) in try CgroupAttachments.programs(at: view.cgroupRoot).sorted(by: { $0.key < $1.key }) {
                programs.append(.init(hook: hook, programIDs: ids, cgroup: view.cgroupRoot))
            }
        } catch {
            problems.append("cannot list the programs attached to \(view.cgroupRoot): \(error)")
        }
        let counters = try? view.datapath.counters()
        let invalid = state.map { $0.snapshot.invalidPolicies.values.map(\.description).sorted() } ?? []
        let maps = mapFill(view, state: state)
        let readerStatistics = view.reader.withLock { $0 }
        return StatusReport(
            version: version, abiVersion: Int(PODGATE_ABI_VERSION), node: state?.settings.nodeName ?? "",
            pinDirectory: view.datapath.pinDirectory, stateDirectory: view.stateDirectory, healthAddress: view.healthAddress,
            startedAt: view.startedAt, ready: state != nil, programs: programs, maps: maps,
            counts: .init(pods: state?.snapshot.pods.count ?? 0,
                          localPods: compiled?.state.endpoints.count ?? 0,
                          identities: compiled?.allocation.identities.ids.count ?? 0,
                          targetClasses: compiled?.allocation.targetClasses.ids.count ?? 0,
                          policies: state?.snapshot.policies.count ?? 0,
                          endpoints: compiled?.state.endpoints.count ?? 0,
                          addresses: compiled?.state.addresses.count ?? 0,
                          cidrs: compiled?.state.cidrs.count ?? 0,
                          policyEntries: compiled?.state.policy.count ?? 0),
            sync: (state?.lastSync ?? [:]).sorted { $0.key < $1.key }.map { .init(source: $0.key, time: $0.value) },
            invalidPolicies: invalid,
            problems: problems + (state?.diagnostics.map(\.description).filter { !invalid.contains($0) } ?? []),
            events: .init(emitted: view.hub.emitted, lostInKernel: counters?.eventsLost ?? 0,
                          skippedBySubscribers: view.hub.skipped, subscribers: view.hub.subscriberCount,
                          undecodable: readerStatistics?.undecodable ?? 0),
            revocation: view.revocation.withLock { $0 })
    }

    /// Entries per map from the last write (equal to the kernel's after a
    /// successful pass), flows counted live; capacities from the kernel.
    static func mapFill(_ view: AgentView, state: PublishedState?) -> [StatusReport.MapFill] {
        let capacities = (try? view.datapath.capacities()) ?? [:]
        let desired = state?.compilation.state
        let entries: [(String, Int?)] = [
            (PODGATE_MAP_ENDPOINTS, desired?.endpoints.count), (PODGATE_MAP_IPCACHE, desired?.addresses.count),
            (PODGATE_MAP_CIDRS, desired?.cidrs.count), (PODGATE_MAP_POLICY, desired?.policy.count),
            (PODGATE_MAP_FLOWS, try? view.datapath.flowCount()),
        ]
        return entries.map { name, count in
            StatusReport.MapFill(map: name, entries: count ?? 0, capacity: Int(capacities[name] ?? 0))
        }
    }
}
