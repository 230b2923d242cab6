import PodgateBench

/// `podgate bench ...`; `podgate bench-helper ...` is the in-pod helper's old name.
enum BenchCommand {
    static func run(_ verb: String, _ arguments: [String]) -> Int32 {
        verb == "bench-helper" ? HelperCommand.run(arguments) : Bench.main(arguments, executable: Bench.ownExecutable())
    }
}
