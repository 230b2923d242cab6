import Foundation
import PodgateTestSupport
import Testing
@testable import PodgateAgent
import PodgateManifests
import PodgateModel

/// Local mode's reading of the manifest directory, with real file operations
/// (policy-semantics.md, "An error never widens access", local mode).
@Suite struct WatchedManifestsTests {
    static let policy = """
        apiVersion: policy.linkerd.io/v1alpha1
        kind: NetworkAuthenticationPolicy
        metadata: {name: p, namespace: demo}
        spec:
          target: {selector: {matchLabels: {app: db}}}
          sources: [{podSelector: {matchLabels: {app: web}}}]
          ports: [{port: 5432}]

        """
    static let ref = PolicyRef(namespace: "demo", name: "p")

    final class Directory {
        let path = NSTemporaryDirectory() + "podgate-test-manifests-\(UInt32.random(in: 0...UInt32.max))"
        init() throws { try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true) }
        deinit { try? FileManager.default.removeItem(atPath: path) }
        func write(_ name: String, _ text: String) throws { try text.write(toFile: "\(path)/\(name)", atomically: true, encoding: .utf8) }
        /// Swaps two names in one step, so the reader never sees the name
        /// missing: a replacement, not a deletion.
        func exchange(_ a: String, _ b: String) throws { try PathExchange.swap("\(path)/\(a)", "\(path)/\(b)") }
    }

    @Test func aBrokenFileKeepsItsLastGoodContent() throws {
        let directory = try Directory()
        var reader = WatchedManifests(path: directory.path)
        try directory.write("a.yaml", Self.policy)
        try directory.write("notes.txt", "ignored")
        try directory.write(".podgate-generation", "7")
        var reading = try reader.read()
        #expect(reading.set.snapshot.policies[Self.ref] != nil)
        #expect(reading.generation == 7)
        #expect(reading.problems.isEmpty)

        try directory.write("a.yaml", "a: [\n")
        reading = try reader.read()
        #expect(reading.set.snapshot.policies[Self.ref] != nil)
        #expect(reading.problems.map(\.description).first?.hasPrefix("a.yaml: ") == true)
        #expect(reading.problems.first?.description.contains("keeping its last good content") == true)

        try FileManager.default.removeItem(atPath: "\(directory.path)/a.yaml")
        reading = try reader.read()
        #expect(reading.set.snapshot.policies.isEmpty && reading.problems.isEmpty)
    }

    /// Item 6: a file replaced by something unreadable keeps what it enforced.
    @Test(arguments: ["dangling symlink", "symlink loop", "directory", "FIFO"])
    func anUnreadableReplacementKeepsTheLastGoodContent(_ kind: String) throws {
        let directory = try Directory()
        var reader = WatchedManifests(path: directory.path)
        try directory.write("pol.yaml", Self.policy)
        #expect(try reader.read().set.snapshot.policies[Self.ref] != nil)

        let replacement = ".replacement"
        try Self.make(kind, at: "\(directory.path)/\(replacement)", loopingAs: "pol.yaml")
        try directory.exchange(replacement, "pol.yaml")
        // A FIFO with no writer would block a plain open forever: this must return at once.
        let reading = try reader.read()
        #expect(reading.set.snapshot.policies[Self.ref] != nil, "\(kind) removed the policy")
        #expect(reading.problems.count == 1)
        #expect(reading.problems.first?.description.hasPrefix("pol.yaml: ") == true)
        #expect(reading.problems.first?.description.contains("keeping its last good content") == true, "\(reading.problems)")

        // A new unreadable file is reported, never skipped silently.
        try Self.make(kind, at: "\(directory.path)/new.yaml", loopingAs: "new.yaml")
        let again = try reader.read()
        #expect(again.set.snapshot.policies[Self.ref] != nil)
        #expect(again.problems.map(\.object) == ["new.yaml", "pol.yaml"])
        #expect(again.problems.first?.message.contains("nothing from it is enforced") == true, "\(again.problems)")
    }

    static func make(_ kind: String, at path: String, loopingAs name: String) throws {
        switch kind {
        case "dangling symlink": try FileManager.default.createSymbolicLink(atPath: path, withDestinationPath: "/nonexistent/podgate")
        case "symlink loop": try FileManager.default.createSymbolicLink(atPath: path, withDestinationPath: name)  // itself, under `name`
        case "directory": try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
        default: #expect(mkfifo(path, 0o600) == 0)
        }
    }

    /// After a restart, a file that cannot be read still keeps what it enforced
    /// (the last good content kept on disk); a file deleted meanwhile is gone.
    @Test func theLastGoodContentOutlivesARestart() throws {
        let directory = try Directory()
        let keep = directory.path + "/.state/manifests-last-good"
        var before = WatchedManifests(path: directory.path, keepDirectory: keep)
        try directory.write("pol.yaml", Self.policy)
        try directory.write("gone.yaml", Self.policy.replacingOccurrences(of: "name: p,", with: "name: gone,"))
        #expect(try before.read().set.snapshot.policies.count == 2)
        try FileManager.default.removeItem(atPath: "\(directory.path)/pol.yaml")
        try FileManager.default.createSymbolicLink(atPath: "\(directory.path)/pol.yaml", withDestinationPath: "/nonexistent/podgate")
        try FileManager.default.removeItem(atPath: "\(directory.path)/gone.yaml")

        var after = WatchedManifests(path: directory.path, keepDirectory: keep)  // the restarted agent
        let reading = try after.read()
        #expect(Array(reading.set.snapshot.policies.keys) == [Self.ref])
        #expect(reading.problems.map(\.description) == ["pol.yaml: cannot be read: a dangling symlink; keeping its last good content"])
        #expect(!FileManager.default.fileExists(atPath: keep + "/gone.yaml"))
    }

    /// After a restart, the duplicate that was enforced is still the one kept.
    @Test func theEnforcedDuplicateOutlivesARestart() throws {
        let directory = try Directory()
        let keep = directory.path + "/.state/manifests-last-good"
        var before = WatchedManifests(path: directory.path, keepDirectory: keep)
        try directory.write("m.yaml", Self.policy)
        _ = try before.read()
        try directory.write("a.yaml", Self.policy.replacingOccurrences(of: "ports: [{port: 5432}]", with: "ports: []"))
        #expect(try before.read().set.snapshot.policies[Self.ref]?.ports.count == 1)

        var after = WatchedManifests(path: directory.path, keepDirectory: keep)  // the restarted agent
        let reading = try after.read()
        #expect(reading.set.snapshot.policies[Self.ref]?.ports.count == 1)
        #expect(reading.set.diagnostics.first?.description.contains("which is enforced; this one is ignored") == true)
    }

    /// Item 7: a file still open for writing is not read; the reader keeps
    /// the last good content until the writer closes it.
    @Test func aFileBeingWrittenIsReadOnlyOnceItsWriterHasFinished() throws {
        let directory = try Directory()
        var reader = WatchedManifests(path: directory.path)
        try directory.write("pol.yaml", Self.policy)
        #expect(try reader.read().set.snapshot.policies[Self.ref]?.ports.count == 1)

        // Truncate, then write all but the `ports:` line (enforced alone it would mean every port).
        let handle = try #require(FileHandle(forWritingAtPath: "\(directory.path)/pol.yaml"))
        try handle.truncate(atOffset: 0)
        let head = Self.policy.components(separatedBy: "  ports:")[0]
        try handle.write(contentsOf: Data(head.utf8))
        for _ in 0..<3 {
            let reading = try reader.read()
            #expect(reading.set.snapshot.policies[Self.ref]?.ports.count == 1, "a half-written file was read")
            #expect(reading.problems.first?.message.contains("is being written") == true, "\(reading.problems)")
            usleep(20_000)
        }
        try handle.write(contentsOf: Data("  ports: [{port: 5432}, {port: 5433}]\n".utf8))
        try handle.close()
        let done = try reader.read()
        #expect(done.problems.isEmpty)
        #expect(done.set.snapshot.policies[Self.ref]?.ports.count == 2)

        // An emptied file (truncated, the rest not written yet) keeps its content too.
        let truncate = try #require(FileHandle(forWritingAtPath: "\(directory.path)/pol.yaml"))
        try truncate.truncate(atOffset: 0)
        try truncate.close()
        let empty = try reader.read()
        #expect(empty.set.snapshot.policies[Self.ref]?.ports.count == 2)
        #expect(empty.problems.first?.message.contains("is empty") == true)
    }

    /// A writer racing the reader (opening and rewriting the file in place
    /// thousands of times): the reader never sees the policy missing or
    /// half-written, and a lease break during a read never kills the process.
    @Test func aRacingWriterNeverShowsAHalfWrittenFile() async throws {
        let directory = try Directory()
        var reader = WatchedManifests(path: directory.path)
        let path = "\(directory.path)/pol.yaml"
        try directory.write("pol.yaml", Self.policy)
        #expect(try reader.read().set.snapshot.policies[Self.ref] != nil)
        let writer = Task.detached {
            // All but the `ports:` line (alone a valid policy for every port), a pause, the rest.
            let head = Array(Self.policy.components(separatedBy: "  ports:")[0].utf8)
            let tail = Array("  ports: [{port: 5432}]\n".utf8)
            for _ in 0..<2000 {
                let fd = open(path, O_WRONLY | O_TRUNC)
                guard fd >= 0 else { continue }
                _ = head.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
                usleep(200)
                _ = tail.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
                close(fd)
            }
        }
        var reads = 0, missing = 0, wrong = 0
        while reads < 5000 {
            let reading = try reader.read()
            reads += 1
            if let policy = reading.set.snapshot.policies[Self.ref] { if policy.ports.count != 1 { wrong += 1 } } else { missing += 1 }
            if reads % 500 == 0 { await Task.yield() }
        }
        await writer.value
        print("racing writer: \(reads) reads, \(reader.parses) parses, \(missing) missing, \(wrong) wrong")
        #expect(missing == 0 && wrong == 0)
    }

    /// Item 8: the object already enforced stays, whatever the file names.
    @Test func aDuplicateNeverReplacesTheEnforcedObject() throws {
        let directory = try Directory()
        var reader = WatchedManifests(path: directory.path)
        try directory.write("m.yaml", Self.policy)
        #expect(try reader.read().set.snapshot.policies[Self.ref]?.ports.count == 1)
        try directory.write("a.yaml", Self.policy.replacingOccurrences(of: "ports: [{port: 5432}]", with: "ports: []"))
        let reading = try reader.read()
        #expect(reading.set.snapshot.policies[Self.ref]?.ports.count == 1)
        #expect(reading.set.diagnostics.map(\.description)
                == ["a.yaml (document 1): NetworkAuthenticationPolicy demo/p is already defined in m.yaml (document 1), which is enforced; this one is ignored"])
    }

    /// Issue 15 item 4: an unchanged file is not read again; a changed one is parsed once.
    @Test func onlyWhatChangedIsParsed() throws {
        let directory = try Directory()
        var reader = WatchedManifests(path: directory.path)
        for index in 0..<20 { try directory.write("f\(index).yaml", Self.policy.replacingOccurrences(of: "name: p,", with: "name: p\(index),")) }
        usleep(150_000)  // past the "racily clean" window: a file read in its write's clock tick is read again
        #expect(try reader.read().set.snapshot.policies.count == 20)
        #expect(reader.parses == 20)
        for _ in 0..<5 { _ = try reader.read() }
        #expect(reader.parses == 20)
        try directory.write("f3.yaml", Self.policy.replacingOccurrences(of: "name: p,", with: "name: renamed,"))
        usleep(150_000)
        let reading = try reader.read()
        #expect(reader.parses == 21)
        #expect(reading.set.snapshot.policies[PolicyRef(namespace: "demo", name: "renamed")] != nil)
        #expect(reading.set.snapshot.policies[PolicyRef(namespace: "demo", name: "p3")] == nil)
        _ = try reader.read()
        #expect(reader.parses == 21)
    }
}
