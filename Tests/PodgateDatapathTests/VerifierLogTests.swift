import Foundation
import PodgateTestSupport
import Synchronization
import Testing
@testable import PodgateDatapath

/// A program the kernel refuses: the error carries the end of the verifier
/// log (it used to say "libbpf's debug log has the details", a log that was
/// dropped). The program is compiled here by the toolchain's clang.
@Suite(.serialized, .kernel)
struct VerifierLogTests {
    /// Reads packet data without the bounds check the verifier demands.
    static let source = """
        #include <linux/bpf.h>
        #include <bpf/bpf_helpers.h>
        SEC("cgroup_skb/ingress")
        int podgate_test_unchecked(struct __sk_buff *skb)
        {
            unsigned char *data = (unsigned char *)(long)skb->data;
            return data[40] & 1;
        }
        char LICENSE[] SEC("license") = "GPL";
        """

    static func compile() throws -> Data {
        let directory = "/tmp/podgate-verifier-test-\(getpid())"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try source.write(toFile: directory + "/bad.bpf.c", atomically: true, encoding: .utf8)
        let clang = Process()
        clang.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        clang.arguments = ["clang", "-O2", "-g", "-target", "bpf", "-I/usr/include/x86_64-linux-gnu",
                           "-c", directory + "/bad.bpf.c", "-o", directory + "/bad.bpf.o"]
        try clang.run()
        clang.waitUntilExit()
        guard clang.terminationStatus == 0 else { throw CommandError(message: "clang failed to compile the test program") }
        return try Data(contentsOf: URL(fileURLWithPath: directory + "/bad.bpf.o"))
    }

    @Test func aRefusedProgramsErrorEndsWithTheVerifierLog() throws {
        let bytes = try Self.compile()
        try bytes.withUnsafeBytes { raw in
            let object = try BPFObject(bytes: raw, name: "podgate_test")
            defer { object.close() }
            let error = #expect(throws: DatapathError.self) { try object.load() }
            let text = error?.description ?? ""
            #expect(text.contains("verifier log, last lines:"), "\(text)")
            #expect(text.contains("invalid access to packet"), "\(text)")
            #expect(text.hasPrefix("load podgate_test.bpf.o: the kernel refused a program"), "\(text)")
        }
    }

    /// libbpf's warnings reach the installed logger at warning level, the
    /// whole verifier log at debug (the agent's logger filters by level).
    @Test func libbpfMessagesReachTheLoggerWithTheirLevel() throws {
        let bytes = try Self.compile()
        let received = Mutex<[(DatapathLogLevel, String)]>([])
        LibbpfLog.install { level, message in received.withLock { $0.append((level, message)) } }
        defer { LibbpfLog.install(nil) }
        try bytes.withUnsafeBytes { raw in
            let object = try BPFObject(bytes: raw, name: "podgate_test")
            defer { object.close() }
            #expect(throws: DatapathError.self) { try object.load() }
        }
        let messages = received.withLock { $0 }
        #expect(messages.contains { $0.0 == .warning && $0.1.contains("podgate_test_unchecked") && $0.1.contains("load failed") },
                "\(messages.map(\.1))")
        #expect(messages.contains { $0.0 == .debug && $0.1.contains("invalid access to packet") }, "\(messages.map(\.1))")
        #expect(!messages.contains { $0.1.hasPrefix("libbpf: ") }, "the logger names the component; no second prefix")
    }

    @Test func tailKeepsTheLastNonEmptyLines() {
        let log = (1...30).map { "line \($0)" }.joined(separator: "\n") + "\n\n  \n"
        #expect(BPFObject.tail(of: log, lines: 3) == ["line 28", "line 29", "line 30"])
        #expect(BPFObject.tail(of: "") == [])
    }
}
