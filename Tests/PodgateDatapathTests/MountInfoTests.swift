import PodgateCgroups
import Testing

@Suite struct MountInfoTests {
    static let hybrid = """
        23 1 0:21 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw
        31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
        32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
        40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
        41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
        """

    static let pureV2 = """
        22 1 0:20 / /proc rw,nosuid,nodev,noexec,relatime shared:12 - proc proc rw
        30 23 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot
        35 23 0:31 / /sys/fs/bpf rw,nosuid,nodev,noexec,relatime shared:8 - bpf bpf rw,mode=700
        """

    static let none = """
        22 1 0:20 / /proc rw,nosuid,nodev,noexec,relatime - proc proc rw
        32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
        """

    @Test func hybridLayoutFindsUnified() {
        #expect(MountInfo.cgroup2MountPoint(in: Self.hybrid) == "/sys/fs/cgroup/unified")
    }

    @Test func pureV2LayoutFindsSysFsCgroup() {
        #expect(MountInfo.cgroup2MountPoint(in: Self.pureV2) == "/sys/fs/cgroup")
    }

    @Test func noCgroup2() {
        #expect(MountInfo.cgroup2MountPoint(in: Self.none) == nil)
        #expect(MountInfo.cgroup2MountPoint(in: "") == nil)
    }

    @Test func escapedSpacesAndOptionalFields() {
        let text = #"50 23 0:40 / /mnt/my\040cgroups\134x rw shared:1 master:2 - cgroup2 none rw"#
        #expect(MountInfo.cgroup2MountPoint(in: text) == #"/mnt/my cgroups\x"#)
    }

    @Test func rootMountPreferredOverSubtreeBind() {
        let text = """
            60 23 0:40 /kubepods /host/cgroup rw - cgroup2 cgroup2 rw
            61 23 0:40 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw
            """
        #expect(MountInfo.cgroup2MountPoint(in: text) == "/sys/fs/cgroup")
    }

    @Test func malformedLinesAreSkipped() {
        let text = "garbage\n1 2 3\n" + Self.pureV2
        #expect(MountInfo.cgroup2MountPoint(in: text) == "/sys/fs/cgroup")
    }
}
