import Foundation
import Testing
import PodgateCgroups
import PodgateModel

/// Local mode names a pod's cgroup `<root>/<namespace>_<name>` (README,
/// "Try it"); a pod is registered once that directory exists, by its inode.
@Suite struct LocalPodCgroupsTests {
    @Test func onlyExistingDirectoriesResolveToTheirInode() throws {
        let root = "/tmp/podgate-local-cgroups-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: root) }
        try FileManager.default.createDirectory(atPath: root + "/demo_web", withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: root + "/demo_file", contents: Data())
        let cgroups = LocalPodCgroups(root: root)
        let web = PodRef(namespace: "demo", name: "web"), file = PodRef(namespace: "demo", name: "file")
        #expect(cgroups.path(for: web) == root + "/demo_web")
        var info = stat()
        #expect(stat(root + "/demo_web", &info) == 0)
        let found = cgroups.resolve([web, file, PodRef(namespace: "demo", name: "absent")])
        #expect(found == [web: CgroupID(UInt64(info.st_ino))], "a file or a missing directory is no pod cgroup")
    }
}
