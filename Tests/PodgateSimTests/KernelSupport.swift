import PodgateTestSupport
import Testing

/// Every suite that builds kernel objects sits in here: one at a time, since
/// they compare the machine's namespaces and state files before and after.
/// `KernelGate` (PodgateTestSupport): root and the built `podgate`; skipped
/// loudly outside CI, failed under CI=true.
@Suite(.serialized, .kernel)
enum KernelSuites {}
