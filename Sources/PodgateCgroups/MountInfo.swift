/// Pure parsing of /proc/self/mountinfo (proc(5)): no I/O, so it is tested
/// with fixture text.
///
/// A line is `id parent major:minor root mountpoint options [optional...] - fstype source superoptions`;
/// the optional fields end at a lone `-`. Paths escape space, tab, newline
/// and backslash as `\040`, `\011`, `\012`, `\134`.
public enum MountInfo {
    public struct Entry: Hashable, Sendable {
        public var root: String
        public var mountPoint: String
        public var fileSystemType: String
    }

    /// Every well-formed line; malformed lines are skipped.
    public static func entries(in text: String) -> [Entry] {
        text.split(separator: "\n").compactMap { line in
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count >= 9, let dash = fields[6...].firstIndex(of: "-"), dash + 1 < fields.count else {
                return nil
            }
            return Entry(root: unescape(fields[3]), mountPoint: unescape(fields[4]), fileSystemType: String(fields[dash + 1]))
        }
    }

    /// The cgroup v2 mount: `/sys/fs/cgroup` on pure v2 hosts,
    /// `/sys/fs/cgroup/unified` on hybrid ones, nil when there is none.
    /// A mount of the hierarchy's root is preferred over a bind mount of a
    /// subtree (as seen inside containers).
    public static func cgroup2MountPoint(in text: String) -> String? {
        let mounts = entries(in: text).filter { $0.fileSystemType == "cgroup2" }
        return (mounts.first { $0.root == "/" } ?? mounts.first)?.mountPoint
    }

    /// Decodes the kernel's `\ooo` octal escapes.
    static func unescape(_ field: Substring) -> String {
        let utf8 = Array(field.utf8)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(utf8.count)
        var i = 0
        while i < utf8.count {
            if utf8[i] == UInt8(ascii: "\\"), i + 3 < utf8.count, let value = octal(utf8[(i + 1)...(i + 3)]) {
                bytes.append(value)
                i += 4
            } else {
                bytes.append(utf8[i])
                i += 1
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func octal(_ digits: ArraySlice<UInt8>) -> UInt8? {
        guard digits.count == 3 else { return nil }
        var value = 0
        for digit in digits {
            guard (UInt8(ascii: "0")...UInt8(ascii: "7")).contains(digit) else { return nil }
            value = value * 8 + Int(digit - UInt8(ascii: "0"))
        }
        return value <= 255 ? UInt8(value) : nil
    }
}
