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

    @Test func candidatesCoverBothDriversAndEveryClassWhenUnknown() {
        #expect(KubeletCgroups.candidatePaths(uid: Self.uid, qos: .burstable).count == 2)
        #expect(KubeletCgroups.candidatePaths(uid: Self.uid, qos: nil).count == 6)
    }

    @Test func otherNamesAreNotPods() {
        for name in ["kubepods-burstable.slice", "kubepods-besteffort.slice", "cri-containerd-abc.scope",
                     "crio-abc.scope", "docker-abc.scope", "cgroup.procs", "pod", "podnot-a-uid",
                     "system-pod5f1c0a2e_9b3d_4e8f_a7c6_1d2e3f4a5b6c.slice",
                     "kubepods-pod5f1c0a2e-9b3d-4e8f-a7c6-1d2e3f4a5b6c.slice"] {
            #expect(KubeletCgroups.podUID(directoryName: name) == nil, "\(name)")
        }
        #expect(KubeletCgroups.isContainerScope("crio-0123.scope"))
        #expect(KubeletCgroups.isContainerScope("docker-0123.scope"))
        #expect(!KubeletCgroups.isContainerScope("kubepods-burstable.slice"))
        #expect(KubeletCgroups.podCgroup(containing: "system.slice/containerd.service") == nil)
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
}
