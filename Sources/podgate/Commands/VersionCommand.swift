import CPodgateABI
import PodgateCLI
import PodgateLog

enum VersionCommand {
    static let spec = CommandSpec(name: "podgate version", summary: "Print podgate's version and the BPF ABI version it speaks.")

    static func run(_ arguments: [String]) -> Int32 {
        spec.run(arguments) { _ in
            Output.out("podgate \(Podgate.version) (BPF ABI \(PODGATE_ABI_VERSION))")
            return 0
        }
    }
}
