#if canImport(Glibc)
import Glibc
#endif
import CPodgateSys

/// What a process does to become "a process of that pod", and to not outlive
/// whoever started it.
public enum Isolation {
    /// Enters /run/netns/NAME. Only the calling thread moves: helpers are single-threaded.
    public static func enterNetns(_ name: String) throws {
        let fd = open("/run/netns/" + name, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw LabError("cannot open network namespace \(name): \(errnoText())") }
        defer { close(fd) }
        guard podgate_sys_enter_netns(fd) == 0 else { throw LabError("setns \(name): \(errnoText())") }
    }

    /// A long-running lab process (the simulator): when whoever started it goes
    /// away (a closed terminal, a killed test run), SIGTERM runs the usual cleanup.
    public static func cleanUpWhenParentDies() {
        let parent = getppid()
        _ = podgate_sys_parent_death_signal(SIGTERM)
        if getppid() != parent { kill(getpid(), SIGTERM) }
    }

    /// An in-pod helper: dies with the lab process, even if that is SIGKILLed.
    public static func dieWithParent() {
        let parent = getppid()
        _ = podgate_sys_parent_death_signal(SIGKILL)
        if getppid() != parent { exit(2) }
    }

    /// Runs on CPU `cpu` only, so a benchmark's client and server do not migrate mid-run.
    public static func pin(toCPU cpu: Int) throws {
        guard podgate_sys_pin_to_cpu(Int32(clamping: cpu)) == 0 else { throw LabError("sched_setaffinity CPU \(cpu): \(errnoText())") }
    }
}
