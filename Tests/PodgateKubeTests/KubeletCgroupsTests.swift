import Foundation
import Testing
import PodgateModel
@testable import PodgateKube

@Suite struct KubeletCgroupsTests {
    static let uid = "5f1c0a2e-9b3d-4e8f-a7c6-1d2e3f4a5b6c"

    @Test(arguments: [
        (QoSClass.guaranteed, CgroupDriver.systemd, "kubepods.slice/kubepods-pod5f1c0a2e_9b3d_4e8f_a7c6_1d2e3f4a5b6c.slice"),
        (.burstable, .systemd, "kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod5f1c0a2e_9b3d_4e8f_a7c6_1d2e3f4a5b6c.slice"),
        (.bestEffort, .systemd, "kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod5f1c0a2e_9b3d_4e8f_a7c6_1d2e3f4a5b6c.slice"),
        (.guaranteed, .cgroupfs, "kubepods/pod5f1c0a2e-9b3d-4e8f-a7c6-1d2e3f4a5b6c"),
        (.burstable, .cgroupfs, "kubepods/burstable/pod5f1c0a2e-9b3d-4e8f-a7c6-1d2e3f4a5b6c"),
        (.bestEffort, .cgroupfs, "kubepods/besteffort/pod5f1c0a2e-9b3d-4e8f-a7c6-1d2e3f4a5b6c"),
    ])
    func pathAndBack(qos: QoSClass, driver: CgroupDriver, expected: String) throws {
        let path = KubeletCgroups.podCgroupPath(uid: Self.uid, qos: qos, driver: driver)
        #expect(path == expected)
        let match = try #require(KubeletCgroups.podCgroup(containing: path))
        #expect(match.uid == Self.uid)
        #expect(match.podPath == path)
        let scope = driver == .systemd ? "cri-containerd-0123abcd.scope" : "0123abcd"
        #expect(KubeletCgroups.podCgroup(containing: path + "/" + scope)?.podPath == path)
    }

    // kubelet --cgroup-root=/kubelet, as kind sets it.
    @Test(arguments: [
        (QoSClass.guaranteed, CgroupDriver.systemd, "kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-pod5f1c0a2e_9b3d_4e8f_a7c6_1d2e3f4a5b6c.slice"),
        (.burstable, .systemd, "kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-burstable.slice/kubelet-kubepods-burstable-pod5f1c0a2e_9b3d_4e8f_a7c6_1d2e3f4a5b6c.slice"),
        (.bestEffort, .systemd, "kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-besteffort.slice/kubelet-kubepods-besteffort-pod5f1c0a2e_9b3d_4e8f_a7c6_1d2e3f4a5b6c.slice"),
        (.guaranteed, .cgroupfs, "kubelet/kubepods/pod5f1c0a2e-9b3d-4e8f-a7c6-1d2e3f4a5b6c"),
        (.burstable, .cgroupfs, "kubelet/kubepods/burstable/pod5f1c0a2e-9b3d-4e8f-a7c6-1d2e3f4a5b6c"),
        (.bestEffort, .cgroupfs, "kubelet/kubepods/besteffort/pod5f1c0a2e-9b3d-4e8f-a7c6-1d2e3f4a5b6c"),
    ])
    func kindPathAndBack(qos: QoSClass, driver: CgroupDriver, expected: String) throws {
        let path = KubeletCgroups.podCgroupPath(uid: Self.uid, qos: qos, driver: driver, cgroupRoot: "/kubelet")
        #expect(path == expected)
        let name = String(path.split(separator: "/").last!)
        #expect(KubeletCgroups.podUID(directoryName: name) == Self.uid)
        let match = try #require(KubeletCgroups.podCgroup(containing: path))
        #expect(match.uid == Self.uid)
        #expect(match.podPath == path)
        let scopes = driver == .systemd ? ["cri-containerd-0123abcd.scope", "crio-0123abcd.scope"] : ["0123abcd"]
        for scope in scopes {
            #expect(KubeletCgroups.podCgroup(containing: path + "/" + scope)?.podPath == path)
            #expect(KubeletCgroups.podCgroup(containing: path + "/" + scope)?.uid == Self.uid)
        }
        // Relative to the kubepods directory's parent (a --cgroup-root naming it), too.
        let kubepods = KubeletCgroups.kubepodsDirectory(cgroupRoot: "/kubelet", driver: driver)
        let fromParent = String(path.dropFirst(kubepods.count - String(kubepods.split(separator: "/").last!).count))
        #expect(KubeletCgroups.podCgroup(containing: fromParent + "/x")?.podPath == fromParent)
        #expect(KubeletCgroups.parentDirectories(cgroupRoot: "/kubelet").contains(String(path.dropLast(name.count + 1))))
    }

    @Test func kubepodsDirectoriesForAnyCgroupRoot() {
        #expect(KubeletCgroups.kubepodsDirectory(driver: .systemd) == "kubepods.slice")
        #expect(KubeletCgroups.kubepodsDirectory(driver: .cgroupfs) == "kubepods")
        #expect(KubeletCgroups.kubepodsDirectory(cgroupRoot: "/kubelet", driver: .systemd) == "kubelet.slice/kubelet-kubepods.slice")
        #expect(KubeletCgroups.kubepodsDirectory(cgroupRoot: "/kubelet", driver: .cgroupfs) == "kubelet/kubepods")
        #expect(KubeletCgroups.kubepodsDirectory(cgroupRoot: "/a/b", driver: .systemd) == "a.slice/a-b.slice/a-b-kubepods.slice")
        #expect(KubeletCgroups.parentDirectories(cgroupRoot: "/kubelet") == [
            "kubelet.slice/kubelet-kubepods.slice", "kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-burstable.slice",
            "kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-besteffort.slice",
            "kubelet/kubepods", "kubelet/kubepods/burstable", "kubelet/kubepods/besteffort",
        ])
        #expect(KubeletCgroups.parentDirectories(cgroupRoot: "/") == KubeletCgroups.parentDirectories)
        for name in ["kubepods", "kubepods.slice", "kubelet-kubepods.slice", "a-b-kubepods.slice"] {
            #expect(KubeletCgroups.isKubepodsDirectory(name), "\(name)")
        }
        for name in ["-kubepods.slice", "a--kubepods.slice", "kubepods-burstable.slice", "kubelet.slice", "kubepodsx.slice", "x-kubepods"] {
            #expect(!KubeletCgroups.isKubepodsDirectory(name), "\(name)")
        }
        let deep = "a-b-kubepods-burstable-pod5f1c0a2e_9b3d_4e8f_a7c6_1d2e3f4a5b6c.slice"
        #expect(KubeletCgroups.podUID(directoryName: deep) == Self.uid)
        #expect(KubeletCgroups.candidatePaths(uid: Self.uid, qos: nil, cgroupRoot: "/kubelet").count == 6)
    }

    @Test func candidatesCoverBothDriversAndEveryClassWhenUnknown() {
        #expect(KubeletCgroups.candidatePaths(uid: Self.uid, qos: .burstable).count == 2)
        #expect(KubeletCgroups.candidatePaths(uid: Self.uid, qos: nil).count == 6)
    }

    @Test func otherNamesAreNotPods() {
        for name in ["kubepods-burstable.slice", "kubepods-besteffort.slice", "cri-containerd-abc.scope",
                     "crio-abc.scope", "docker-abc.scope", "cgroup.procs", "pod", "podnot-a-uid",
                     "system-pod5f1c0a2e_9b3d_4e8f_a7c6_1d2e3f4a5b6c.slice",
                     "kubepods-pod5f1c0a2e-9b3d-4e8f-a7c6-1d2e3f4a5b6c.slice",
                     "kubelet-kubepods-burstable.slice", "kubelet-kubepods.slice", "kubelet.slice",
                     "-kubepods-pod5f1c0a2e_9b3d_4e8f_a7c6_1d2e3f4a5b6c.slice",
                     "kubelet--kubepods-pod5f1c0a2e_9b3d_4e8f_a7c6_1d2e3f4a5b6c.slice",
                     "kubelet-pod5f1c0a2e_9b3d_4e8f_a7c6_1d2e3f4a5b6c.slice"] {
            #expect(KubeletCgroups.podUID(directoryName: name) == nil, "\(name)")
        }
        #expect(KubeletCgroups.isContainerScope("crio-0123.scope"))
        #expect(KubeletCgroups.isContainerScope("docker-0123.scope"))
        #expect(!KubeletCgroups.isContainerScope("kubepods-burstable.slice"))
        #expect(KubeletCgroups.podCgroup(containing: "system.slice/containerd.service") == nil)
        #expect(KubeletCgroups.podCgroup(containing: "kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-burstable.slice") == nil)
        #expect(KubeletCgroups.podCgroup(containing: "kubelet/kubepods/burstable") == nil)
    }

    @Test func staticPodHashUIDs() {
        let hash = "0123456789abcdef0123456789abcdef"
        #expect(KubeletCgroups.podUID(directoryName: "kubepods-burstable-pod\(hash).slice") == hash)
        #expect(KubeletCgroups.podUID(directoryName: "pod\(hash)") == hash)
    }

    @Test func qosFromPodStatus() throws {
        let pod = try JSONDocument.parse(#"{"status":{"qosClass":"BestEffort"}}"#)
        #expect(QoSClass(pod: pod) == .bestEffort)
        #expect(QoSClass(pod: .map([])) == nil)
    }

    @Test(arguments: CgroupDriver.allCases)
    func scanFixtureTree(driver: CgroupDriver) throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("podgate-cg-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        var expected: [String: String] = [:]
        for (index, qos) in QoSClass.allCases.enumerated() {
            let uid = "00000000-0000-0000-0000-00000000000\(index)"
            let path = KubeletCgroups.podCgroupPath(uid: uid, qos: qos, driver: driver)
            expected[uid] = path
            let scope = driver == .systemd ? ["cri-containerd-aaaa.scope", "crio-bbbb.scope"] : ["aaaa", "bbbb"]
            for child in scope {
                try FileManager.default.createDirectory(atPath: "\(root)/\(path)/\(child)", withIntermediateDirectories: true)
            }
            #expect(PodCgroupScan.podCgroup(mount: root, uid: uid, qos: nil) == path)
        }
        // Files kubelet keeps next to pods, and a stray file named like a pod, are not pods.
        let parent = driver == .systemd ? "kubepods.slice" : "kubepods"
        _ = FileManager.default.createFile(atPath: "\(root)/\(parent)/cgroup.procs", contents: Data())
        _ = FileManager.default.createFile(atPath: "\(root)/\(parent)/pod11111111-1111-1111-1111-111111111111", contents: Data())
        #expect(PodCgroupScan.podCgroups(mount: root) == expected)
        #expect(PodCgroupScan.podCgroup(mount: root, uid: "22222222-2222-2222-2222-222222222222", qos: nil) == nil)
    }

    @Test(arguments: CgroupDriver.allCases)
    func scanKindFixtureTree(driver: CgroupDriver) throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("podgate-cg-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        var expected: [String: String] = [:]
        for (index, qos) in QoSClass.allCases.enumerated() {
            let uid = "00000000-0000-0000-0000-00000000000\(index)"
            let path = KubeletCgroups.podCgroupPath(uid: uid, qos: qos, driver: driver, cgroupRoot: "/kubelet")
            expected[uid] = path
            let scope = driver == .systemd ? ["cri-containerd-aaaa.scope", "crio-bbbb.scope"] : ["aaaa", "bbbb"]
            for child in scope {
                try FileManager.default.createDirectory(atPath: "\(root)/\(path)/\(child)", withIntermediateDirectories: true)
            }
            #expect(PodCgroupScan.podCgroup(mount: root, uid: uid, qos: nil, cgroupRoot: "/kubelet") == path)
            #expect(PodCgroupScan.podCgroup(mount: root, uid: uid, qos: nil) == nil)
        }
        let kubepods = KubeletCgroups.kubepodsDirectory(cgroupRoot: "/kubelet", driver: driver)
        _ = FileManager.default.createFile(atPath: "\(root)/\(kubepods)/cgroup.procs", contents: Data())
        _ = FileManager.default.createFile(atPath: "\(root)/\(kubepods)/pod11111111-1111-1111-1111-111111111111", contents: Data())
        #expect(PodCgroupScan.podCgroups(mount: root, parentDirectories: KubeletCgroups.parentDirectories(cgroupRoot: "/kubelet")) == expected)
        // The default root's parents see nothing of kind's layout.
        #expect(PodCgroupScan.podCgroups(mount: root).isEmpty)
    }
}
