import Foundation
import Testing
import PodgateModel
import PodgateKube
import PodgateCgroups
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

    @Test func kindRootsAreKubepodsDirectoriesToo() {
        let systemd = KubeletTree(root: "/c/kubelet.slice/kubelet-kubepods.slice")
        #expect(systemd.base == "/c/kubelet.slice")
        #expect(systemd.parentDirectories == ["/c/kubelet.slice/kubelet-kubepods.slice",
                                              "/c/kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-burstable.slice",
                                              "/c/kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-besteffort.slice"])
        let cgroupfs = KubeletTree(root: "/c/kubelet/kubepods")
        #expect(cgroupfs.base == "/c/kubelet")
        #expect(cgroupfs.parentDirectories == ["/c/kubelet/kubepods", "/c/kubelet/kubepods/burstable", "/c/kubelet/kubepods/besteffort"])
        // Any prefix made of slice levels.
        #expect(KubeletTree(root: "/c/a.slice/a-b.slice/a-b-kubepods.slice").parentDirectories.last
            == "/c/a.slice/a-b.slice/a-b-kubepods.slice/a-b-kubepods-besteffort.slice")
    }

    @Test func detectingTheRootFindsKindLayouts() throws {
        let mount = try makeTemporaryDirectory("podgate-tree")
        defer { try? FileManager.default.removeItem(atPath: mount) }
        let error = #expect(throws: AgentError.self) { try KubeletTree.detectRoot(mount: mount) }
        #expect(error?.description.contains("\(mount)/kubelet.slice/kubelet-kubepods.slice") == true)
        #expect(error?.description.contains("\(mount)/kubelet/kubepods") == true)
        try FileManager.default.createDirectory(atPath: mount + "/kubelet/kubepods", withIntermediateDirectories: true)
        #expect(try KubeletTree.detectRoot(mount: mount) == mount + "/kubelet/kubepods")
        try FileManager.default.createDirectory(atPath: mount + "/kubelet.slice/kubelet-kubepods.slice", withIntermediateDirectories: true)
        #expect(try KubeletTree.detectRoot(mount: mount) == mount + "/kubelet.slice/kubelet-kubepods.slice")
        // The default root wins when both exist.
        try FileManager.default.createDirectory(atPath: mount + "/kubepods", withIntermediateDirectories: false)
        #expect(try KubeletTree.detectRoot(mount: mount) == mount + "/kubepods")
    }

    @Test(arguments: CgroupDriver.allCases)
    func scanFindsKindPodCgroupsOfEveryQoSClass(driver: CgroupDriver) throws {
        let mount = try makeTemporaryDirectory("podgate-tree")
        defer { try? FileManager.default.removeItem(atPath: mount) }
        let u = (1...3).map(uid)
        var expected: [String] = []
        for (index, qos) in QoSClass.allCases.enumerated() {
            let path = KubeletCgroups.podCgroupPath(uid: u[index], qos: qos, driver: driver, cgroupRoot: "/kubelet")
            expected.append(mount + "/" + path)
            let scope = driver == .systemd ? "cri-containerd-0a1b.scope" : "0a1b"
            try FileManager.default.createDirectory(atPath: mount + "/" + path + "/" + scope, withIntermediateDirectories: true)
        }
        // A default-root pod and a sibling outside the kind root are not the kind root's.
        let other = uid(9)
        try FileManager.default.createDirectory(atPath: mount + "/" + KubeletCgroups.podCgroupPath(uid: other, qos: .burstable, driver: driver),
                                                withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: mount + "/kubelet.slice/system.slice", withIntermediateDirectories: true)
        let root = mount + "/" + KubeletCgroups.kubepodsDirectory(cgroupRoot: "/kubelet", driver: driver)
        #expect(try KubeletTree.detectRoot(mount: mount) == mount + "/" + KubeletCgroups.kubepodsDirectory(driver: driver))
        let tree = KubeletTree(root: root)
        let found = tree.podCgroups()
        #expect(Set(found.keys) == Set(u))
        // Each ID is the pod-level cgroup's, not a container scope's.
        for (index, id) in u.enumerated() {
            #expect(found[id] == (try? Cgroups.id(of: expected[index])))
        }
        #expect(Set(KubeletTree(root: mount).podCgroups().keys) == [other])
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
