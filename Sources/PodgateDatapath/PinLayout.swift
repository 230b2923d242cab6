import CLibbpf
import CPodgateABI
#if canImport(Glibc)
import Glibc
#endif

/// Where the datapath's objects live under the agent's pin directory:
///
///     <pin-dir>/link_<program>      one pinned bpf_link per hook (all versions)
///     <pin-dir>/v<ABI>/<map>        the maps of ABI version <ABI> (this build: PODGATE_ABI_VERSION)
///     <pin-dir>/v<ABI>-staging/     maps being built for an upgrade, not yet live
///     <pin-dir>/<map>               the maps of ABI version 1 (the layout before versioning)
///
/// Upgrades never open a window. Links are the atomic switch: a new map set is
/// built and filled in the staging directory while the old programs keep
/// enforcing with the old maps; then each link gets its new program
/// (`bpf_link__update_program`, atomic per hook; old and new maps hold the
/// same policy, so the order across hooks does not matter); then the staging
/// directory is renamed to `v<ABI>` and the old map pins are removed (the
/// maps themselves die with the last program that used them). A crash at any
/// step leaves either the old programs with complete old maps, or the new
/// programs with complete new maps; a leftover staging directory is never
/// adopted, only rebuilt.
public struct PinLayout: Sendable {
    public let root: String
    public init(root: String) { self.root = root }

    public static var versionName: String { "v\(PODGATE_ABI_VERSION)" }
    public var current: String { root + "/" + Self.versionName }
    public var staging: String { current + "-staging" }
    public func link(program: String) -> String { root + "/link_" + program }
    public func map(_ name: String, in directory: String) -> String { directory + "/" + name }

    /// The entries of a directory (no "." and "..").
    static func entries(_ path: String) -> [String] {
        guard let directory = opendir(path) else { return [] }
        defer { closedir(directory) }
        var names: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }

    /// Map directories this build does not use: other ABI versions' `v<N>`,
    /// staging leftovers, and the root itself when it holds version-1 map pins.
    func otherMapDirectories() -> [String] {
        var result: [String] = []
        for name in Self.entries(root) where Self.isVersionDirectory(name) && root + "/" + name != current {
            result.append(root + "/" + name)
        }
        if Self.entries(root).contains(where: { DatapathMaps.names.contains($0) }) { result.append(root) }
        return result
    }

    /// `v<digits>` or `v<digits>-staging`: the only directories podgate creates.
    static func isVersionDirectory(_ name: String) -> Bool {
        var body = Substring(name)
        if body.hasSuffix("-staging") { body = body.dropLast("-staging".count) }
        guard body.first == "v", body.count > 1 else { return false }
        return body.dropFirst().allSatisfy { $0.isASCII && $0.isNumber }
    }

    /// Unpins podgate's maps in `directory` and removes it when it is a
    /// version directory left empty. Returns names it did not own (left in place).
    @discardableResult
    static func removeMaps(in directory: String, removeDirectory: Bool) throws -> [String] {
        var foreign: [String] = []
        for name in entries(directory) {
            if DatapathMaps.names.contains(name) {
                let path = directory + "/" + name
                guard unlink(path) == 0 || errno == ENOENT else { throw DatapathError.fromErrno("unpin", path) }
            } else {
                foreign.append(name)
            }
        }
        if removeDirectory && foreign.isEmpty {
            guard rmdir(directory) == 0 || errno == ENOENT else { throw DatapathError.fromErrno("remove", directory) }
        }
        return foreign
    }
}
