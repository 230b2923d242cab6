import Testing

extension Trait where Self == ConditionTrait {
    /// A kernel suite's condition: `KernelGate` (root and the built
    /// `podgate`; skipped loudly outside CI, failed under CI=true).
    public static var kernel: Self { .enabled(if: KernelGate.enabled, "needs root and the podgate executable (or CI=true)") }
}
