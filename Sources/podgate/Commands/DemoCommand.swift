import PodgateSim

enum DemoCommand {
    static func run(_ arguments: [String]) -> Int32 {
        Demo.main(arguments: arguments, executable: Sim.ownExecutable(), parseDocuments: SimCommand.parseDocuments)
    }
}
