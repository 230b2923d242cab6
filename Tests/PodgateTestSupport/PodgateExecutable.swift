import Foundation

/// The `podgate` executable that kernel tests start (agents, probes,
/// listeners): one definition for every test target. `PODGATE_EXECUTABLE`
/// names it (script/test sets the release binary, built as the image builds
/// it); when set it is used or nothing is (no silent fallback to another
/// build). Otherwise the package's debug build, then its release build.
public enum PodgateExecutable {
    public static let variable = "PODGATE_EXECUTABLE"

    public static var packageRoot: String {
        "/" + "\(#filePath)".split(separator: "/").dropLast(3).joined(separator: "/")
    }

    public static var path: String? {
        if let chosen = ProcessInfo.processInfo.environment[variable], !chosen.isEmpty {
            return access(chosen, X_OK) == 0 ? chosen : nil
        }
        return [packageRoot + "/.build/debug/podgate", packageRoot + "/.build/release/podgate"].first { access($0, X_OK) == 0 }
    }

    /// Why `path` is nil, for the skip or failure message.
    public static var missing: String {
        if let chosen = ProcessInfo.processInfo.environment[variable], !chosen.isEmpty {
            return "\(variable)=\(chosen) is not an executable file"
        }
        return "needs the podgate executable: run `swift build` first (or set \(variable))"
    }
}
