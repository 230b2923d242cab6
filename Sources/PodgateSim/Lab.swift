// The simulator runs on the shared lab (processes, files, namespaces, cgroups,
// cleanup, the in-pod helper). Re-exported so the simulator's tests, which
// drive the same plumbing, see it through `@testable import PodgateSim`.
@_exported import PodgateLab

/// The simulator's failures are the lab's.
public typealias SimError = LabError
