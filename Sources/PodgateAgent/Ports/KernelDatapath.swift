import PodgateDatapath
import PodgateLog
import PodgateModel
import Synchronization

/// The real datapath: libbpf loads the programs and pins the maps.
public final class KernelDatapath: Datapath {
    private let loader: DatapathLoader
    private let loaded = Mutex<DatapathMaps?>(nil)

    public init(loader: DatapathLoader) {
        self.loader = loader
    }

    /// The agent's datapath as its flags describe it.
    public convenience init(options: AgentOptions) {
        var loader = DatapathLoader(pinDirectory: options.pinDirectory, capacities: options.limits.mapCapacities,
                                    logger: Self.libbpfLogger, edgeInterfaces: options.edgeInterfaces)
        loader.autoEdges = options.autoEdgeInterfaces
        self.init(loader: loader)
    }

    /// libbpf's lines at their own level: --log-level filters debug and info;
    /// a warning is always logged.
    static let libbpfLogger: DatapathLogger = { level, message in
        let log = Logger("libbpf")
        switch level {
        case .warning: Logger("libbpf", minimum: .warning).warning(message)
        case .info: log.info(message)
        case .debug: log.debug(message)
        }
    }

    public func load(attachingTo cgroupRoot: String, fillNewMaps: (any DatapathWriter) throws -> Void) throws {
        let maps = try withoutActuallyEscaping(fillNewMaps) { fill in
            try loader.load(attachingTo: cgroupRoot, fillNewMaps: { try fill($0) })
        }
        loaded.withLock { $0 = maps }
    }

    /// The live maps; a call before `load` is a programming error.
    private var maps: DatapathMaps {
        guard let maps = loaded.withLock({ $0 }) else { preconditionFailure("KernelDatapath used before load") }
        return maps
    }

    public var pinDirectory: String { maps.pinDirectory }
    public func realizedState() throws -> RealizedState { try maps.realizedState() }
    public func apply(_ operations: [MapOperation]) throws { try maps.apply(operations) }
    public func counters() throws -> DatapathCounters { try maps.counters() }
    public func capacities() throws -> [String: UInt32] { try maps.capacities() }
    public func flowCount() throws -> Int? { try maps.flowCount() }

    public var followsEdgeInterfaces: Bool { loader.autoEdges }
    public func resyncEdgeInterfaces() throws -> [String]? { try loader.resyncAutoEdges(maps: maps) }

    public func startEvents(_ onEvent: @escaping @Sendable (DatapathEvent) -> Void) throws -> any DatapathEventFeed {
        let reader = try DatapathEventReader(maps: maps, onEvent: onEvent)
        try reader.start()
        return reader
    }

    public func revocationProblem(btfPath: String) -> String? { SocketRevoker.kernelProblem(btfPath: btfPath) }
    public func makeRevoker() throws -> any ConnectionRevoker { try SocketRevoker(maps: maps) }
}

extension DatapathMaps: DatapathWriter {}
extension SocketRevoker: ConnectionRevoker {}
extension DatapathEventReader: DatapathEventFeed {
    public var undecodable: Int { statistics.undecodable }
}
