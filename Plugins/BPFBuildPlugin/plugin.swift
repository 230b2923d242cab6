import Foundation
import PackagePlugin

/// Compiles bpf/*.bpf.c with the toolchain's clang and hands the target a
/// Swift file holding the objects (base64). Only the .swift file is declared
/// as an output: declaring the .o would make it a resource.
@main
struct BPFBuildPlugin: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        let bpfDirectory = context.package.directoryURL.appending(path: "bpf")
        let abiInclude = context.package.directoryURL.appending(path: "Sources/CPodgateABI/include")
        let sources = try listFiles(bpfDirectory, suffix: ".bpf.c")
        let headers = try listFiles(bpfDirectory.appending(path: "lib"), suffix: ".h")
            + [abiInclude.appending(path: "podgate_abi.h")]
        let output = context.pluginWorkDirectoryURL.appending(path: "EmbeddedBPFObjects.swift")
        let clang = try context.tool(named: "clang").url
        var arguments = ["--clang", clang.path(), "--output", output.path(),
                         "--work", context.pluginWorkDirectoryURL.path(),
                         "--include", abiInclude.path(), "--include", bpfDirectory.path()]
        arguments += sources.map(\.path)
        return [.buildCommand(displayName: "Compiling BPF programs",
                              executable: try context.tool(named: "podgate-bpf-embed").url,
                              arguments: arguments,
                              inputFiles: sources + headers,
                              outputFiles: [output])]
    }

    private func listFiles(_ directory: URL, suffix: String) throws -> [URL] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path())) ?? []
        return names.filter { $0.hasSuffix(suffix) }.sorted().map { directory.appending(path: $0) }
    }
}
