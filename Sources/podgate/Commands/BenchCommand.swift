import PodgateBench

/// `podgate bench ...`, and `podgate bench-helper ...`: the processes the
/// benchmark places inside its pods (not for people).
enum BenchCommand {
    static func run(_ verb: String, _ arguments: [String]) -> Int32 {
        verb == "bench-helper" ? BenchHelper.main(arguments) : Bench.main(arguments, executable: Bench.ownExecutable())
    }
}
