import Foundation
import PodgateLog
import PodgateCompiler
import PodgateDatapath
import PodgateManifests
import PodgateModel

/// The node agent: one serialized reconcile loop. Its source (a manifest
/// directory or the API server, plus the pod cgroups) only wakes it; each
/// pass reads everything, compiles, diffs against what the kernel holds and
/// writes the difference (adds first). Both ends are ports: the command
/// hands in the kernel's datapath and the flags' source; tests hand in fakes.
public final class Agent: @unchecked Sendable {
    // @unchecked: everything mutable below is touched only by `run()`'s loop;
    // `view` is written before the event and control threads start, and
    // they read the published state through its locks.
    private let options: AgentOptions
    private let log = Logger("agent")
    private let source: any ClusterSource
    private let datapath: any Datapath
    /// What the kernel holds, when the compile step does not know it (first
    /// pass, after a failed write): the incremental compiler's state otherwise.
    private var realized: DesiredState?
    /// The pod cgroups of the last compilation: whose sockets a revocation pass walks.
    private var lastEndpoints: Set<CgroupID> = []
    private var compileStep: CompileStep
    private var lastSnapshot = ClusterSnapshot()
    private var lastLocalCgroups: [PodRef: CgroupID] = [:]
    private var lastSourceProblems: [Diagnostic] = []
    private var lastProblems: [String] = []
    private var events: EventSink?
    private let hub = EventHub()
    /// Set once in `run()` before any other thread can read it.
    private var view: AgentView?
    /// Closes open connections a change refuses; nil when off or unavailable.
    private var revoker: (any ConnectionRevoker)?
    /// Changes applied before the iterators were loaded (the first fill):
    /// revoked once they are.
    private var pendingChange: [String]?
    private var lastRevocationProblems: [String] = []
    private var cgroupRoot = ""

    /// Names nothing: for events before the first compilation that the
    /// backlog has no room for; they are still reported, by address.
    private let unnamed: EventEnricher
    /// Events before the first compilation (the agent's downtime): reported with names once it is done.
    private let backlog = EventBacklog()
    /// True during `DatapathLoader.load` (its fillNewMaps reconcile), on the loading thread only.
    private var loading = false
    private var generationAfterLoad: Int?

    public init(options: AgentOptions, datapath: any Datapath, source: any ClusterSource) {
        self.options = options
        self.datapath = datapath
        self.source = source
        Logger.processMinimum = options.logLevel
        compileStep = CompileStep(settings: options.settings, resyncNanoseconds: Self.resyncNanoseconds)
        unnamed = EventEnricher(compilation: Compilation(state: DesiredState(config: DatapathConfig(allowFromHost: true, denyUnknownPods: true)),
                                                         allocation: Allocation(), diagnostics: []),
                                snapshot: ClusterSnapshot(), settings: options.settings)
    }

    public func run() async throws {
        let root = try source.cgroupRoot()
        try FileManager.default.createDirectory(atPath: options.stateDirectory, withIntermediateDirectories: true)
        // New maps (first start, upgrade, changed capacities) are filled BEFORE
        // any program uses them: see PinLayout for the atomic switch.
        loading = true
        let datapath = self.datapath
        try datapath.load(attachingTo: root, fillNewMaps: { [self] maps in try reconcileOrThrow(maps) })
        loading = false
        try writeGeneration(generationAfterLoad)
        log.info("programs attached to \(root); maps pinned in \(options.pinDirectory)")
        // Adopt what a previous agent left in the kernel: diff against it, never flush.
        realized = try datapath.realizedState().desiredStateShape
        if let realized { log.info("adopted \(realized.policy.count) policy, \(realized.addresses.count) address and \(realized.endpoints.count) endpoint entries") }

        let view = AgentView(datapath: datapath, hub: hub, cgroupRoot: root, stateDirectory: options.stateDirectory)
        self.view = view
        cgroupRoot = root
        // Bound now (a taken address fails the start); served in the task group below.
        let control = try ControlServer(view: view, path: options.controlSocket)
        defer { control.stop() }
        let health = try HealthServer(view: view, address: options.healthAddress)
        defer { health.stop() }
        view.healthAddress = health.boundAddress
        try "\(health.boundAddress)\n".write(toFile: AgentDefaults.healthAddressFile(stateDirectory: options.stateDirectory), atomically: true, encoding: .utf8)
        log.info("control socket \(options.controlSocket); /metrics, /healthz, /readyz on http://\(health.boundAddress)")

        events = try EventSink(path: options.eventsFile, node: options.settings.nodeName)
        let reader = try datapath.startEvents { [weak self] event in self?.handle(event) }
        view.reader.withLock { $0 = reader }
        defer { reader.stop() }

        let changes = try source.start(cgroupRoot: root)
        defer { source.stop() }
        await withTaskGroup(of: Void.self) { group in
            let services: [any Service] = [control, health]
            for service in services { group.addTask { await service.run() } }
            group.addTask { [source] in await source.run() }
            if datapath.followsEdgeInterfaces {
                group.addTask { [log] in await Self.followEdges(datapath, log) }
            }
            reconcile(datapath)
            // Loading the iterators (libbpf reads the kernel's BTF: ~0.1 s)
            // waits until the first state is published, so events have names.
            startRevocation(datapath, view: view)
            for await _ in changes {
                // Let a burst of writes (an editor's save, a `cp` of several
                // files) land, so one pass sees them together.
                try? await Task.sleep(for: .milliseconds(5))
                reconcile(datapath)
            }
            group.cancelAll()
        }
    }

    /// `--edge-interfaces auto`: a tunnel or uplink that appears after the
    /// start (flannel.1 once flannel runs, wg0) gets podgate_edge within
    /// `edgeRescan`; one that goes or becomes pod-side loses it.
    static let edgeRescan: Duration = .seconds(2)
    private static func followEdges(_ datapath: any Datapath, _ log: Logger) async {
        while !Task.isCancelled {
            try? await Task.sleep(for: edgeRescan)
            do {
                if let edges = try datapath.resyncEdgeInterfaces() {
                    log.info("edge interfaces (auto): \(edges.isEmpty ? "none" : edges.joined(separator: ", "))")
                }
            } catch {
                log.warning("edge interfaces (auto): \(error); retrying in \(edgeRescan)")
            }
        }
    }

    private func reconcile(_ datapath: any Datapath) {
        do {
            try reconcileOrThrow(datapath)
            unlink("\(options.stateDirectory)/apply-error")
        } catch {
            // Nothing was half-applied that allows more than before: the diff adds
            // before it deletes, and the next pass retries from the kernel's view.
            log.error("reconcile failed, keeping the last good state: \(error)")
            try? "\(error)\n".write(toFile: "\(options.stateDirectory)/apply-error", atomically: true, encoding: .utf8)
            realized = (try? datapath.realizedState())?.desiredStateShape
        }
    }

    /// `datapath`: the live maps, or a new set being filled during `load`.
    private func reconcileOrThrow(_ datapath: any DatapathWriter) throws {
        let started = DispatchTime.now()
        do {
            let reading = try source.read(previous: lastSnapshot)
            // Before the first complete picture, enforcing would flush what
            // the kernel holds for pods not listed yet: keep the adopted state.
            guard reading.isReady else { return }
            // The periodic resync usually finds nothing new: then the kernel
            // already holds this state and there is nothing to compile.
            if reading.snapshot == lastSnapshot, reading.localCgroups == lastLocalCgroups,
               reading.problems == lastSourceProblems, realized != nil || compileStep.kernelInStep, view?.isReady == true {
                let (time, unixSeconds) = Self.now()
                view?.markSynced(reading.syncedSources, at: time, unixSeconds: unixSeconds)
                try writeGeneration(reading.generation)
                return
            }
            let snapshot = reading.snapshot
            let localCgroups = reading.localCgroups
            let compileStarted = DispatchTime.now()
            let pass = compileStep.prepare(snapshot, localCgroups, handed: reading.changes, realized: realized, limits: options.limits,
                                           now: compileStarted.uptimeNanoseconds)
            let compilation = pass.compilation
            let operations = pass.operations
            let compiled = DispatchTime.now()
            if let differences = pass.differences, differences > 0 {
                view?.recordResyncRepair()
                log.warning("resync: the incremental state differs from the full compile in \(differences) entries: \(pass.summary ?? ""); repaired from the full compile")
            } else if let summary = pass.summary {
                log.warning("resync: \(summary)")
            }
            do {
                // Refuse what does not fit, before any write.
                if !pass.exceeded.isEmpty { throw StateLimits.ExceededError(exceeded: pass.exceeded) }
                try datapath.apply(operations)
            } catch {
                compileStep.notWritten()
                throw error
            }
            compileStep.written()
            let written = DispatchTime.now()
            // Held only while there is no incremental compiler: a second
            // reference to its maps would make its next write copy them whole.
            realized = compileStep.kernelInStep ? nil : compilation.state
            lastEndpoints = Set(compilation.state.endpoints.keys)
            let previousSnapshot = lastSnapshot
            lastSnapshot = snapshot
            lastLocalCgroups = localCgroups
            lastSourceProblems = reading.problems
            let problems = reading.problems + compilation.diagnostics
            publish(snapshot: snapshot, compilation: compilation, problems: problems, sources: reading.syncedSources)
            if !operations.isEmpty {
                // An incremental pass follows a written one: its changes lead from
                // `previousSnapshot` here, and only the objects they name are compared.
                let change = pass.full ? ChangeSummary.describe(from: previousSnapshot, to: snapshot)
                                       : ChangeSummary.describe(pass.changes, from: previousSnapshot, to: snapshot)
                if revoker == nil, options.revokeEstablished { pendingChange = (pendingChange ?? []) + change }
                revoke(refusedBy: change, cgroups: Set(compilation.state.endpoints.keys))
            }
            view?.record(compileSeconds: Self.seconds(compileStarted, compiled),
                         writeSeconds: operations.isEmpty ? nil : Self.seconds(compiled, written))
            report(problems: problems)
            if !operations.isEmpty {
                let elapsed = Double(DispatchTime.now().uptimeNanoseconds - started.uptimeNanoseconds) / 1e6
                log.info("applied \(operations.count) map changes in \(String(format: "%.1f", elapsed)) ms (\(compilation.state.policy.count) policy entries, \(compilation.state.endpoints.count) local pods)")
            }
            try writeGeneration(reading.generation)
        }
    }

    /// Local mode: tells whoever wrote the manifests which generation the kernel now holds.
    private func writeGeneration(_ generation: Int?) throws {
        guard let generation else { return }
        // While the loader fills a new map set no program uses it yet: the
        // generation is written once the links are switched (run()).
        if loading { generationAfterLoad = generation; return }
        // This pass applied: its error report goes before the generation moves,
        // so a reader that sees the generation never sees a stale error.
        unlink("\(options.stateDirectory)/apply-error")
        try "\(generation)\n".write(toFile: "\(options.stateDirectory)/applied-generation", atomically: true, encoding: .utf8)
    }

    static func now() -> (text: String, unixSeconds: Double) {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return (Logger.timestamp(), Double(now.tv_sec) + Double(now.tv_nsec) / 1e9)
    }

    private func report(problems: [Diagnostic]) {
        let lines = problems.map(\.description).sorted()
        guard lines != lastProblems else { return }
        // Each problem is logged once, when it appears (or changes): a
        // thousand objects rejected must not be logged again at each pass.
        let known = Set(lastProblems)
        lastProblems = lines
        for line in lines where !known.contains(line) { log.warning(line) }
        try? lines.joined(separator: "\n").write(toFile: "\(options.stateDirectory)/problems", atomically: true, encoding: .utf8)
    }

    private func publish(snapshot: ClusterSnapshot, compilation: Compilation, problems: [Diagnostic], sources: [String]) {
        let (time, unixSeconds) = Self.now()
        // The source's inputs and the kernel are brought together in the same pass.
        var lastSync = ["kernel": time]
        for name in sources { lastSync[name] = time }
        let state = PublishedState(snapshot: snapshot, compilation: compilation, settings: options.settings,
                                   diagnostics: problems, lastSync: lastSync, lastSyncUnixSeconds: unixSeconds)
        let enricher = EventEnricher(compilation: compilation, snapshot: snapshot, settings: options.settings)
        view?.publish(state, enricher: enricher)
        // The refusals made while no agent ran, named now that the cluster is
        // known (not from inside the loader: the reader and the sink start after it).
        if view != nil {
            backlog.release { event in report(EventBacklog.renumbered(event, by: compilation.state), with: enricher) }
        }
    }

    /// The full compile checks (and repairs) the incremental one this often.
    static let resyncNanoseconds: UInt64 = 60_000_000_000

    static func seconds(_ start: DispatchTime, _ end: DispatchTime) -> Double {
        Double(end.uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
    }

    /// Loads the socket iterators unless switched off or the kernel lacks
    /// them; either way the agent enforces as before, and `status` says why.
    private func startRevocation(_ datapath: any Datapath, view: AgentView) {
        guard options.revokeEstablished else {
            view.revocation.withLock { $0 = "off (--revoke-established=false): open connections stay open after a change" }
            return
        }
        // PODGATE_TEST_KERNEL_BTF: tests stand in a kernel without the kfunc.
        let btf = ProcessInfo.processInfo.environment["PODGATE_TEST_KERNEL_BTF"] ?? "/sys/kernel/btf/vmlinux"
        if let problem = datapath.revocationProblem(btfPath: btf) {
            view.revocation.withLock { $0 = "unavailable: \(problem); open connections stay open after a change" }
            log.warning("revocation unavailable: \(problem)")
            return
        }
        do {
            revoker = try datapath.makeRevoker()
            view.revocation.withLock { $0 = "on: open connections that a change refuses are closed" }
            if let change = pendingChange, !lastEndpoints.isEmpty {
                pendingChange = nil
                revoke(refusedBy: Array(change.prefix(ChangeSummary.limit)), cgroups: lastEndpoints)
            }
        } catch {
            view.revocation.withLock { $0 = "unavailable: \(error); open connections stay open after a change" }
            log.warning("revocation unavailable: \(error)")
        }
    }

    /// After a change is in the maps: close what they now refuse, and report
    /// each closed connection with the change that caused it.
    private func revoke(refusedBy change: [String], cgroups: Set<CgroupID>) {
        guard let revoker, !cgroups.isEmpty else { return }
        let started = DispatchTime.now()
        let (namespaces, invisible) = PodNetworkNamespaces.find(root: cgroupRoot, cgroups: cgroups)
        let pass = revoker.run(inNetworkNamespaces: namespaces)
        var problems = pass.problems
        if invisible > 0 {
            problems.append("\(invisible) processes of pod cgroups are outside this agent's PID namespace, so their sockets cannot be reached (run the agent with the host's PID namespace: hostPID)")
        }
        if problems != lastRevocationProblems { for problem in problems { log.warning("revocation: \(problem)") } }
        lastRevocationProblems = problems
        view?.revocation.withLock { text in
            let base = text?.components(separatedBy: "; last pass: ").first ?? ""
            text = problems.isEmpty ? base : base + "; last pass: " + problems.joined(separator: "; ")
        }
        guard !pass.revoked.isEmpty else { return }
        let elapsed = Double(DispatchTime.now().uptimeNanoseconds - started.uptimeNanoseconds) / 1e6
        log.info("revoked \(pass.revoked.count) open connection(s) in \(String(format: "%.1f", elapsed)) ms (\(namespaces.count) network namespaces)")
        let enricher = view?.enricher ?? unnamed
        for event in pass.revoked {
            var record = enricher.record(for: event)
            record.change = change
            events?.emit(record)
            hub.publish(record)
        }
    }

    private func handle(_ event: DatapathEvent) {
        if backlog.hold(event) { return }
        report(event, with: view?.enricher ?? unnamed)
    }

    private func report(_ event: DatapathEvent, with enricher: EventEnricher) {
        let record = enricher.record(for: event)
        events?.emit(record)
        hub.publish(record)
    }
}
