import Testing
@testable import PodgateLab

/// The in-pod helper's one parser: each subcommand takes what it knows, and
/// anything left is an error rather than silently ignored.
@Suite struct HelperOptionsTests {
    @Test func takesNamedValuesAndKeepsTheCommandAfterDashDash() throws {
        var options = try HelperOptions(["--cgroup", "/c", "--port", "8080", "--", "/bin/true", "--port", "1"])
        #expect(try options.required("--cgroup") == "/c")
        #expect(try options.int("--port", 1, in: 1...65535) == 8080)
        #expect(try options.optional("--netns") == nil)
        #expect(options.command == ["/bin/true", "--port", "1"])
        try options.finish()
    }

    @Test func anOptionNobodyTookIsAnError() throws {
        var options = try HelperOptions(["--to", "10.0.0.1", "--warmup", "1"])
        _ = try options.required("--to")
        #expect(throws: LabError.self) { try options.finish() }
    }

    @Test func valuesAreChecked() throws {
        var options = try HelperOptions(["--port", "70000", "--tcp", "80,x", "--seconds", "-1"])
        #expect(throws: LabError.self) { try options.int("--port", 8080, in: 1...65535) }
        #expect(throws: LabError.self) { try options.ports("--tcp") }
        #expect(throws: LabError.self) { try options.double("--seconds", 1) }
        #expect(throws: LabError.self) { try options.required("--to") }
        #expect(throws: LabError.self) { try HelperOptions(["--cgroup"]) }
    }

    @Test func defaultsWhenAbsent() throws {
        var options = try HelperOptions([])
        #expect(try options.int("--count", 20) == 20)
        #expect(try options.double("--seconds", 0.5) == 0.5)
        #expect(try options.ports("--udp") == [])
    }

    @Test func anUnknownSubcommandExitsTwo() {
        #expect(InPodHelper.main(["no-such-command"], commands: [:]) == 2)
        #expect(InPodHelper.main([], commands: [:]) == 2)
    }
}
