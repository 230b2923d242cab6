import PodgateBench
import PodgateLab
import PodgateSim

/// `podgate sim-helper ...` (and its old name `bench-helper`): the one in-pod
/// helper, with the simulator's and the benchmark's subcommands (not for people).
enum HelperCommand {
    static func run(_ arguments: [String]) -> Int32 {
        InPodHelper.main(arguments, commands: SimHelper.commands.merging(BenchHelper.commands) { sim, _ in sim })
    }
}
