import Foundation
import Testing
import PodgateModel
@testable import PodgateAgent

@Suite struct KubeletTreeTests {
    @Test func baseIsTheDirectoryTheKubeletLayoutIsRelativeTo() {
        #expect(KubeletTree(root: "/sys/fs/cgroup/kubepods.slice").base == "/sys/fs/cgroup")
        #expect(KubeletTree(root: "/sys/fs/cgroup/kubepods").base == "/sys/fs/cgroup")
        #expect(KubeletTree(root: "/sys/fs/cgroup/test-tree").base == "/sys/fs/cgroup/test-tree")
        // Only the parents inside the root are watched: programs see nothing outside it.
        #expect(KubeletTree(root: "/c/kubepods").parentDirectories == ["/c/kubepods", "/c/kubepods/burstable", "/c/kubepods/besteffort"])
        #expect(KubeletTree(root: "/c/t").parentDirectories.count == 6)
    }

    @Test func detectingTheRootNamesBothLayoutsWhenNeitherExists() throws {
        let mount = try makeTemporaryDirectory("podgate-tree")
        defer { try? FileManager.default.removeItem(atPath: mount) }
        let error = #expect(throws: AgentError.self) { try KubeletTree.detectRoot(mount: mount) }
        #expect(error?.description.contains("\(mount)/kubepods.slice") == true)
        #expect(error?.description.contains("\(mount)/kubepods (cgroupfs") == true)
        #expect(error?.description.contains("--cgroup-root") == true)
        try FileManager.default.createDirectory(atPath: mount + "/kubepods", withIntermediateDirectories: false)
        #expect(try KubeletTree.detectRoot(mount: mount) == mount + "/kubepods")
        try FileManager.default.createDirectory(atPath: mount + "/kubepods.slice", withIntermediateDirectories: false)
        #expect(try KubeletTree.detectRoot(mount: mount) == mount + "/kubepods.slice")
    }

    @Test func scanFindsPodCgroupsOfEveryQoSClassButNothingOutsideTheRoot() throws {
        let base = try makeTemporaryDirectory("podgate-tree")
        defer { try? FileManager.default.removeItem(atPath: base) }
        let u = (1...4).map(uid)
        let s = u.map { $0.replacingOccurrences(of: "-", with: "_") }
        for path in ["kubepods.slice/kubepods-pod\(s[0]).slice",
                     "kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod\(s[1]).slice/crio-0a1b.scope",
                     "kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod\(s[2]).slice",
                     "kubepods/besteffort/pod\(u[3])", "kubepods.slice/system.slice"] {
            try FileManager.default.createDirectory(atPath: base + "/" + path, withIntermediateDirectories: true)
        }
        #expect(Set(KubeletTree(root: base + "/kubepods.slice").podCgroups().keys) == Set(u[0...2]))
        #expect(Set(KubeletTree(root: base).podCgroups().keys) == Set(u))
    }

    @Test func podsMatchTheirCgroupByUIDOrMirrorHash() {
        func pod(_ name: String, uid: String, node: String?, annotations: [String: String] = [:]) -> Pod {
            Pod(namespace: "kube-system", name: name, uid: uid, labels: [:], defaultInboundPolicy: nil, serviceAccount: "default",
                ports: [], hostNetwork: false, nodeName: node, addresses: [], annotations: annotations)
        }
        let hash = "6c4b3e1d2a9f8e7d6c5b4a3f2e1d0c9b"
        let cgroups = [uid(1): CgroupID(11), hash: CgroupID(12), uid(3): CgroupID(13)]
        let pods = [pod("a", uid: uid(1).uppercased(), node: "n1"),
                    pod("etcd-n1", uid: uid(2), node: "n1", annotations: [KubeSource.mirrorAnnotation: hash]),
                    pod("elsewhere", uid: uid(3), node: "n2"), pod("unscheduled", uid: uid(4), node: nil)]
        #expect(KubeSource.match(pods, nodeName: "n1", cgroupsByUID: cgroups)
            == [PodRef(namespace: "kube-system", name: "a"): CgroupID(11), PodRef(namespace: "kube-system", name: "etcd-n1"): CgroupID(12)])
    }
}
