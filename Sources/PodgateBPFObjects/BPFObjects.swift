import FoundationEssentials

/// The BPF objects compiled from bpf/ during `swift build`, as bytes.
public enum BPFObjects {
    public static func object(named name: String) -> [UInt8]? {
        guard let encoded = EmbeddedBPFObjects.base64[name], let data = Data(base64Encoded: encoded) else { return nil }
        return [UInt8](data)
    }

    public static var names: [String] { EmbeddedBPFObjects.base64.keys.sorted() }
}
