import Foundation
import PodgateCLI
import PodgateCompiler
import PodgateDatapath
import PodgateManifests
import PodgateModel

/// The node agent in local mode: one serialized reconcile loop. File and
/// cgroup changes only wake it; each pass reads everything, compiles, diffs
/// against what the kernel holds and writes the difference (adds first).
public final class Agent: @unchecked Sendable {
    // @unchecked: everything mutable below is touched only by `run()`'s loop;
    // `view` is written before the event and control threads start, and
    // they read the published state through its locks.
    private let options: AgentOptions
    private let log = Logger("agent")
    private var manifests: WatchedManifests
    private let cgroups: LocalCgroups
    private var allocation = Allocation()
    private var realized: DesiredState?
    private var lastSnapshot = ClusterSnapshot()
    private var lastProblems: [String] = []
    private var events: EventSink?
    private let hub = EventHub()
    /// Set once in `run()` before any other thread can read it.
    private var view: AgentView?

    public init(options: AgentOptions) throws {
        guard let directory = options.manifestsDirectory else {
            throw AgentError.configuration("Kubernetes mode is not in this build yet: pass --manifests DIR to run in local mode")
        }
        self.options = options
        manifests = WatchedManifests(path: directory)
        cgroups = LocalCgroups(root: options.cgroupRoot ?? "")
    }

    public func run() async throws {
        let root = try resolvedCgroupRoot()
        try FileManager.default.createDirectory(atPath: options.stateDirectory, withIntermediateDirectories: true)
        // New maps (first start, upgrade, changed capacities) are filled BEFORE
        // any program uses them: see PinLayout for the atomic switch.
        let datapath = try DatapathLoader(pinDirectory: options.pinDirectory, capacities: options.limits.mapCapacities,
                                          logger: { message in Logger("libbpf", minimum: .warning).debug(message) })
            .load(attachingTo: root, fillNewMaps: { [self] maps in try reconcileOrThrow(maps) })
        log.info("programs attached to \(root); maps pinned in \(options.pinDirectory)")
        // Adopt what a previous agent left in the kernel: diff against it, never flush.
        realized = try datapath.realizedState().desiredStateShape
        if let realized { log.info("adopted \(realized.policy.count) policy, \(realized.addresses.count) address and \(realized.endpoints.count) endpoint entries") }

        let view = AgentView(datapath: datapath, hub: hub, cgroupRoot: root, stateDirectory: options.stateDirectory)
        self.view = view
        let control = try ControlServer(view: view, path: options.controlSocket)
        defer { control.stop() }
        let health = try HealthServer(view: view, address: options.healthAddress)
        defer { health.stop() }
        view.healthAddress = health.boundAddress
        try "\(health.boundAddress)\n".write(toFile: "\(options.stateDirectory)/health-address", atomically: true, encoding: .utf8)
        log.info("control socket \(options.controlSocket); /metrics, /healthz, /readyz on http://\(health.boundAddress)")

        events = try EventSink(path: options.eventsFile, node: options.settings.nodeName)
        let reader = try DatapathEventReader(maps: datapath) { [weak self] event in self?.handle(event) }
        view.reader.withLock { $0 = reader.statistics }
        try reader.start()
        defer { reader.stop() }

        let watcher = try DirectoryWatcher(directories: [manifests.path, root])
        defer { watcher.stop() }
        reconcile(datapath)
        for await _ in watcher.changes {
            reconcile(datapath)
        }
    }

    private func resolvedCgroupRoot() throws -> String {
        let root = cgroups.root
        guard !root.isEmpty else {
            throw AgentError.configuration("--cgroup-root is required in local mode: the cgroup directory that holds <namespace>_<name> pod cgroups")
        }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: root, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw AgentError.configuration("--cgroup-root \(root) does not exist; create it inside the cgroup2 hierarchy first")
        }
        return root
    }

    private func reconcile(_ datapath: DatapathMaps) {
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

    private func reconcileOrThrow(_ datapath: DatapathMaps) throws {
        let started = DispatchTime.now()
        do {
            let reading = try manifests.read(isParsable: { text in
                do { _ = try YAMLParser.parse(text); return nil } catch { return Diagnostic(object: "", field: "", message: "\(error)") }
            })
            let loaded = ManifestSet(files: reading.files.map { ManifestFile(name: $0.name, text: $0.text) })
            let snapshot = loaded.keepingLastGood(from: lastSnapshot)
            let local = snapshot.pods.values.filter { $0.nodeName == nil || $0.nodeName == options.settings.nodeName }.map(\.ref)
            let localCgroups = cgroups.resolve(local)
            let compileStarted = DispatchTime.now()
            let compilation = PolicyCompiler.compile(snapshot, settings: options.settings,
                                                     localCgroups: localCgroups, previous: allocation)
            let compiled = DispatchTime.now()
            let operations = StateDiff.operations(from: realized, to: compilation.state)
            try options.limits.check(from: realized, to: compilation.state)  // refuse what does not fit, before any write
            try datapath.apply(operations)
            let written = DispatchTime.now()
            realized = compilation.state
            lastSnapshot = snapshot
            allocation = compilation.allocation
            let problems = reading.problems + loaded.diagnostics + compilation.diagnostics
            publish(snapshot: snapshot, compilation: compilation, problems: problems)
            view?.record(compileSeconds: Self.seconds(compileStarted, compiled),
                         writeSeconds: operations.isEmpty ? nil : Self.seconds(compiled, written))
            report(problems: problems)
            if !operations.isEmpty {
                let elapsed = Double(DispatchTime.now().uptimeNanoseconds - started.uptimeNanoseconds) / 1e6
                log.info("applied \(operations.count) map changes in \(String(format: "%.1f", elapsed)) ms (\(compilation.state.policy.count) policy entries, \(compilation.state.endpoints.count) local pods)")
            }
            if let generation = reading.generation {
                try "\(generation)\n".write(toFile: "\(options.stateDirectory)/applied-generation", atomically: true, encoding: .utf8)
            }
        }
    }

    private func report(problems: [Diagnostic]) {
        let lines = problems.map(\.description).sorted()
        guard lines != lastProblems else { return }
        lastProblems = lines
        for line in lines { log.warning(line) }
        try? lines.joined(separator: "\n").write(toFile: "\(options.stateDirectory)/problems", atomically: true, encoding: .utf8)
    }

    private func publish(snapshot: ClusterSnapshot, compilation: Compilation, problems: [Diagnostic]) {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        let time = Logger.timestamp()
        // Local mode reads the manifests and the cgroups in the same pass.
        let state = PublishedState(snapshot: snapshot, compilation: compilation, settings: options.settings,
                                   diagnostics: problems, lastSync: ["manifests": time, "cgroups": time, "kernel": time],
                                   lastSyncUnixSeconds: Double(now.tv_sec) + Double(now.tv_nsec) / 1e9)
        view?.publish(state, enricher: EventEnricher(compilation: compilation, snapshot: snapshot, settings: options.settings))
    }

    static func seconds(_ start: DispatchTime, _ end: DispatchTime) -> Double {
        Double(end.uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
    }

    private func handle(_ event: DatapathEvent) {
        guard let names = view?.enricher else { return }
        let record = names.record(for: event)
        events?.emit(record)
        hub.publish(record)
    }
}
