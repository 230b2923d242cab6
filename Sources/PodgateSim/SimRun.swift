/// One run's handle on the machine: its id, the `ip` runner, and the state
/// file that records every object before it is created. The simulator and
/// the demo both start, guard and end their runs through it.
struct SimRun {
    let id: String
    let state: CleanupRegistry
    let ip: IPCommand

    static func open() throws -> SimRun {
        let id = SimRunner.randomRunID()
        let ip = try IPCommand()
        return SimRun(id: id, state: try CleanupRegistry(directory: Sim.stateDirectory, run: id), ip: ip)
    }

    /// Runs `body`; an interrupt becomes its exit code, any other error is
    /// printed after `prefix` and becomes `errorCode`.
    func guarded(prefix: String, errorCode: Int32, _ body: () throws -> Int32) -> Int32 {
        do {
            return try body()
        } catch let interrupted as Interrupted {
            Files.standardError("\(prefix)\(interrupted); cleaning up\n")
            return interrupted.exitCode
        } catch {
            Files.standardError("\(prefix)\(error)\n")
            return errorCode
        }
    }

    /// Removes everything the run created; returns what could not be removed.
    func removeAll() -> [String] { state.removeAll(ip: ip) }
}
