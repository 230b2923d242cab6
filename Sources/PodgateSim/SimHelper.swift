/// The simulator's subcommands of the one in-pod helper (`podgate sim-helper`,
/// see PodgateLab's InPodHelper, which also gives `sysctl` and `exec`). Each
/// enters the pod (cgroup, then network namespace) and does its one job:
///
///     listen --cgroup DIR --netns NAME [--tcp P,P...] [--udp P,P...]
///         TCP and UDP echo on [::] (dual-stack); prints `ready` once bound.
///     probe --cgroup DIR|- --netns NAME --to ADDR --port N --protocol TCP|UDP
///           --family ipv4|ipv6|ipv4-mapped --timeout S
///         exit 0 allowed, 1 denied, 2 could not probe; one line says how.
///     hold (the probe's options) --seconds S
///         holds one connection open (see HoldClient): `open`, then `cut: HOW` (exit 1).
///     flood --cgroup DIR --netns NAME --to ADDR --port N [--rate R] [--seconds S] [--count N]
///         connects as fast as --rate allows, to benchmark event delivery.
///     session [--netns-first] CGROUP|- NETNS MODE ARGS...
///         the kernel tests' socket experiments, one line per outcome (HelperSession).
///
/// A new subcommand: its own file, one line here.
public enum SimHelper {
    public static let commands: [String: InPodHelper.Command] = [
        "listen": InPodHelper.options(SimHelperCommands.listen),
        "probe": InPodHelper.options(SimHelperCommands.probe),
        "hold": InPodHelper.options(SimHelperCommands.hold),
        "flood": InPodHelper.options(FloodHelper.run),
        "session": HelperSession.run,
    ]
}
