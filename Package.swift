// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "podgate",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "podgate", targets: ["podgate"]),
    ],
    targets: [
        // C: the one binary contract, and the system libraries.
        .target(name: "CPodgateABI", path: "Sources/CPodgateABI"),
        .target(name: "CPodgateTC", dependencies: ["CLibbpf"], path: "Sources/CPodgateTC"),
        .target(name: "CPodgateSys", path: "Sources/CPodgateSys"),  // the GNU calls Glibc's module hides: setns, prctl, memmem, ...
        .systemLibrary(name: "CLibbpf", path: "Sources/CLibbpf", pkgConfig: "libbpf",
                       providers: [.apt(["libbpf-dev", "libelf-dev", "zlib1g-dev"])]),
        .systemLibrary(name: "CCurl", path: "Sources/CCurl", pkgConfig: "libcurl",
                       providers: [.apt(["libcurl4-openssl-dev"])]),
        .systemLibrary(name: "CYAML", path: "Sources/CYAML", pkgConfig: "yaml-0.1",
                       providers: [.apt(["libyaml-dev"])]),

        // The BPF objects: bpf/*.c compiled by the toolchain's clang during the build.
        .executableTarget(name: "podgate-bpf-embed", path: "Sources/podgate-bpf-embed"),
        .plugin(name: "BPFBuildPlugin", capability: .buildTool(), dependencies: ["podgate-bpf-embed"],
                path: "Plugins/BPFBuildPlugin"),
        .target(name: "PodgateBPFObjects", path: "Sources/PodgateBPFObjects", plugins: ["BPFBuildPlugin"]),

        // Pure core: values in, values out; no Foundation, no I/O.
        .target(name: "PodgateModel", dependencies: ["CPodgateABI"]), // header only: the ABI's numbers
        .target(name: "PodgateCompiler", dependencies: ["PodgateModel"]),

        // Adapters: the outside world (files, libyaml, cgroupfs, the API server, the kernel) to and from the model.
        .target(name: "PodgateManifests", dependencies: ["PodgateModel", "CYAML"]), // libyaml; reads manifest directories
        .target(name: "PodgateCgroups", dependencies: ["PodgateModel"]),
        .target(name: "PodgateKube", dependencies: ["PodgateModel", "CCurl"]),
        .target(name: "PodgateDatapath", dependencies: ["PodgateModel", "CPodgateABI", "CLibbpf", "CPodgateTC", "CPodgateSys", "PodgateBPFObjects"]),

        // The shell: command-line plumbing, the node agent, the simulator and the benchmark.
        .target(name: "PodgateLog"),  // Logger and Output: leveled lines on standard error
        .target(name: "PodgateCLI", dependencies: ["PodgateModel"]),
        .target(name: "PodgateAgent", dependencies: ["CPodgateSys", "PodgateLog", "PodgateCLI", "PodgateModel", "PodgateCompiler", "PodgateManifests", "PodgateCgroups", "PodgateDatapath", "PodgateKube"]),
        // The lab: processes, files, namespaces, cgroups, cleanup and the in-pod helper for the simulator, the benchmark and the tests.
        .target(name: "PodgateLab", dependencies: ["CPodgateSys", "PodgateCgroups", "PodgateModel"]),
        .target(name: "PodgateSim", dependencies: ["PodgateLab", "PodgateModel", "PodgateManifests"]),
        .target(name: "PodgateBenchCore", dependencies: ["PodgateModel"]),
        // A fixture API server on loopback and API objects as kubectl prints them: the Kube
        // tests' server, and `bench kube`'s (so it is not a test-only target).
        .target(name: "PodgateKubeFixtures", dependencies: ["PodgateKube", "PodgateModel"]),
        .target(name: "PodgateBench", dependencies: ["PodgateLab", "PodgateBenchCore", "PodgateModel", "PodgateCompiler", "PodgateDatapath", "CLibbpf",
                                                     "PodgateKube", "PodgateKubeFixtures"]),

        .executableTarget(name: "podgate", dependencies: ["PodgateLog", "PodgateCLI", "PodgateAgent", "PodgateSim", "PodgateDatapath", "PodgateManifests", "PodgateCompiler", "PodgateBench", "PodgateLab"]),

        .testTarget(name: "PodgateModelTests", dependencies: ["PodgateModel"]),
        .testTarget(name: "PodgateCompilerTests", dependencies: ["PodgateCompiler", "PodgateModel", "PodgateManifests", "PodgateTestSupport"]),
        .testTarget(name: "PodgateManifestsTests", dependencies: ["PodgateManifests", "PodgateModel", "PodgateTestSupport"]),
        // Test support: the kernel gate, the podgate executable the kernel suites start
        // (PODGATE_EXECUTABLE), its helper sessions, namespaces, commands.
        .target(name: "PodgateTestSupport", dependencies: ["CPodgateSys", "PodgateLab", "PodgateModel", "PodgateKube"], path: "Tests/PodgateTestSupport"),
        .testTarget(name: "PodgateDatapathTests", dependencies: ["PodgateDatapath", "PodgateCgroups", "PodgateModel", "PodgateCompiler", "CPodgateABI", "CLibbpf",
                                                             "PodgateTestSupport"]),
        // Test support: the agent's ports as fakes (a datapath and a cluster source in memory).
        .target(name: "PodgateAgentFakes", dependencies: ["PodgateAgent", "PodgateDatapath", "PodgateModel", "PodgateCLI"],
                path: "Tests/PodgateAgentFakes"),
        .testTarget(name: "PodgateAgentTests", dependencies: ["PodgateAgent", "PodgateCLI", "PodgateLab", "PodgateModel", "PodgateCompiler", "PodgateDatapath",
                                                          "PodgateKube", "PodgateKubeFixtures", "PodgateCgroups", "PodgateManifests", "PodgateTestSupport",
                                                          "PodgateAgentFakes"]),
        .testTarget(name: "PodgateKubeTests", dependencies: ["PodgateKube", "PodgateModel", "PodgateKubeFixtures", "PodgateTestSupport"]),
        .testTarget(name: "PodgateSimTests", dependencies: ["PodgateSim", "PodgateModel", "PodgateTestSupport", "CPodgateABI"]),
        .testTarget(name: "PodgateLabTests", dependencies: ["PodgateLab"]),
        .testTarget(name: "PodgateBenchTests", dependencies: ["PodgateBenchCore", "PodgateBench", "PodgateLab", "PodgateCompiler", "PodgateModel", "PodgateTestSupport"]),
    ],
    swiftLanguageModes: [.v6]
)
