import PodgateLab
import PodgateBenchCore
import PodgateCompiler
import PodgateDatapath
import PodgateModel
#if canImport(Glibc)
import Glibc
#endif

/// `podgate bench control`: the compiler and the map writer on synthetic
/// clusters. Each cluster size runs in a fresh child process, so its resident
/// memory (VmHWM) is that size's alone.
enum ControlBench {
    static func run(sandbox: Sandbox, executable: String, shapes: [ClusterShape]) throws -> [BenchRecord] {
        let cgroup = sandbox.cgroupRoot + "/control"
        try Files.makeDirectories(cgroup)
        var records: [BenchRecord] = []
        for shape in shapes {
            try Interrupts.check()
            Bench.log("control plane: \(shape)")
            let pin = sandbox.pin("-control")
            let child = try Processes.spawn(executable, ["sim-helper", "control", "--pods", String(shape.pods),
                                                    "--policies", String(shape.policies), "--namespaces", String(shape.namespaces),
                                                    "--pin", pin, "--attach", cgroup, "--cgroup", sandbox.cgroupRoot + "/agent"],
                                        stdout: .pipe, stderr: .null)
            while let line = child.readLine() {
                let fields = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
                guard fields.count >= 4, let value = Double(fields[2]) else { continue }
                records.append(BenchRecord(suite: "control", configuration: fields[0], size: shape.description, metric: fields[1],
                                           median: value, note: fields[3]))
                Bench.log("  \(fields[0]): \(ReportFormat.figure(value)) \(fields[1]) \(fields[3])")
            }
            let status = Processes.wait(child.pid)
            if let fd = child.output { close(fd) }
            _ = try? DatapathLoader.detachAndRemove(pinDirectory: pin)
            guard status == 0 else { throw LabError("the control-plane child for \(shape) exited with \(status)") }
        }
        return records
    }

    /// The child: prints `configuration \t metric \t value \t note` lines.
    static func child(_ options: inout HelperOptions) throws -> Int32 {
        try InPodHelper.enter(&options, cgroupRequired: true)
        let shape = ClusterShape(pods: try options.int("--pods", 1000), policies: try options.int("--policies", 100),
                                 namespaces: try options.int("--namespaces", 10))
        let pin = try options.required("--pin"), attach = try options.required("--attach")
        try options.finish()
        func emit(_ configuration: String, _ metric: String, _ value: Double, _ note: String = "") {
            Files.standardOutput("\(configuration)\t\(metric)\t\(value)\t\(note)\n")
        }
        func ms(_ start: UInt64) -> Double { Double(Monotonic.nanoseconds - start) / 1e6 }

        var started = Monotonic.nanoseconds
        let snapshot = SyntheticCluster.generate(shape)
        let cgroups = SyntheticCluster.localCgroups(snapshot)
        let settings = AgentSettings(defaultInboundPolicy: .allUnauthenticated, nodeName: SyntheticCluster.localNode)
        let generated = ms(started)

        // A cold compile (no previous numbers), three times: the machine is shared.
        var fullTimes: [Double] = []
        var compiled: Compilation?
        for _ in 0..<3 {
            compiled = nil
            started = Monotonic.nanoseconds
            compiled = PolicyCompiler.compile(snapshot, settings: settings, localCgroups: cgroups)
            fullTimes.append(ms(started))
        }
        let first = compiled!
        let state = first.state
        emit("full compile", "ms", Statistics.median(fullTimes) ?? .nan, "median of 3 (\(fullTimes.map { ReportFormat.fixed($0, digits: 0) }.joined(separator: ", ")) ms); \(state.policy.count) policy, \(state.addresses.count) address, \(state.endpoints.count) endpoint entries; cluster generated in \(ReportFormat.fixed(generated, digits: 0)) ms")

        let maps = try DatapathLoader(pinDirectory: pin).load(attachingTo: attach)
        started = Monotonic.nanoseconds
        let initial = StateDiff.operations(from: nil, to: state)
        let diffTime = ms(started)
        started = Monotonic.nanoseconds
        try maps.apply(initial)
        let write = ms(started)
        emit("initial map write", "ms", write, "\(initial.count) updates (batched per map where the kernel allows), \(ReportFormat.fixed(write * 1e6 / Double(max(initial.count, 1)), digits: 0)) ns each; diff \(ReportFormat.fixed(diffTime, digits: 1)) ms")

        // Policy entries live in two maps since ABI 4: one port in podgate_exact, the rest in podgate_policy.
        for map in ["podgate_ipcache", "podgate_exact", "podgate_policy"] {
            let layout = PinLayout(root: pin)
            let batch = try BatchWrites.measure(mapPath: layout.map(map, in: layout.current))
            if batch.entries == 0 { continue }  // nothing to rewrite (a cluster without port ranges)
            emit("rewrite \(map), one entry per syscall", "ms", batch.singleMs, "\(batch.entries) entries")
            if let ms = batch.batchMs {
                emit("rewrite \(map), bpf_map_update_batch", "ms", ms, "\(batch.entries) entries in one call")
            } else {
                emit("rewrite \(map), bpf_map_update_batch", "ms", .nan, "not supported: \(batch.batchError ?? "")")
            }
        }

        // The incremental compiler, built from the same snapshot with the same numbers.
        let before = memory()
        started = Monotonic.nanoseconds
        var incremental = IncrementalCompiler(snapshot: snapshot, settings: settings, localCgroups: cgroups, previous: first.allocation)
        let built = ms(started)
        let after = memory()
        emit("incremental: build from the snapshot", "ms", built,
             "agrees with the full compile: \(incremental.state == state ? "yes" : "NO"); VmRSS +\(ReportFormat.fixed(after.rss - before.rss, digits: 0)) MiB for its indexes and its copy of the state")

        var previous = first
        var current = snapshot
        let changes: [(String, (ClusterSnapshot, ClusterShape) -> ClusterSnapshot)] = [
            ("no change", { snapshot, _ in snapshot }),
            ("one pod relabel", SyntheticCluster.relabelingOnePod),
            ("one policy change", SyntheticCluster.changingOnePolicy),
            ("one namespace relabel", SyntheticCluster.relabelingOneNamespace),
        ]
        for (name, change) in changes {
            let next = change(current, shape)
            started = Monotonic.nanoseconds
            let compilation = PolicyCompiler.compile(next, settings: settings, localCgroups: cgroups, previous: previous.allocation)
            let compile = ms(started)
            started = Monotonic.nanoseconds
            let operations = StateDiff.operations(from: previous.state, to: compilation.state)
            let diff = ms(started)
            started = Monotonic.nanoseconds
            try maps.apply(operations)
            let write = ms(started)
            emit("recompile: \(name)", "ms", compile + diff, "full compile \(ReportFormat.fixed(compile, digits: 1)) + diff \(ReportFormat.fixed(diff, digits: 1)) ms")
            emit("map write: \(name)", "ms", write, "\(operations.count) map operations")

            // The same change through the incremental compiler: the change in, the operations out.
            started = Monotonic.nanoseconds
            let clusterChanges = ClusterChange.between(current, next)
            let between = ms(started)
            var times: [Double] = []
            var incrementalOperations: [MapOperation] = []
            // Three rounds (there and back, then there again): the machine is shared.
            for round in 0..<3 {
                let round = round % 2 == 0 ? clusterChanges : ClusterChange.between(next, current)
                started = Monotonic.nanoseconds
                incremental.apply(round)
                incrementalOperations = incremental.takeOperations()
                times.append(ms(started))
            }
            let agrees = PolicyCompiler.compile(next, settings: settings, localCgroups: cgroups, previous: incremental.allocation).state == incremental.state
            emit("incremental: \(name)", "ms", Statistics.median(times) ?? .nan,
                 "change in, \(incrementalOperations.count) map operations out (goal < 5 ms); median of 3 (\(times.map { ReportFormat.fixed($0, digits: 2) }.joined(separator: ", ")) ms); agrees with the full compile: \(agrees ? "yes" : "NO"); diffing two snapshots into the change: \(ReportFormat.fixed(between, digits: 1)) ms")
            previous = compilation
            current = next
        }
        let memory = memory()
        emit("resident memory", "MiB", memory.hwm, "VmHWM of a process holding the snapshot, compilation and maps; VmRSS \(ReportFormat.fixed(memory.rss, digits: 0)) MiB")
        return 0
    }

    /// `VmRSS` and `VmHWM` of this process, MiB.
    static func memory() -> (rss: Double, hwm: Double) {
        var rss = 0.0, hwm = 0.0
        for line in ((try? Files.read("/proc/self/status")) ?? "").split(separator: "\n") {
            let parts = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard parts.count >= 2, let kib = Double(parts[1]) else { continue }
            if parts[0] == "VmRSS:" { rss = kib / 1024 }
            if parts[0] == "VmHWM:" { hwm = kib / 1024 }
        }
        return (rss, hwm)
    }
}
