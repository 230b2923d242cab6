import PodgateModel
import Synchronization

/// The objects of every watched resource, as the agent's reconciler reads
/// them. Watch threads apply changes; the reconciler is only told "something
/// changed" (a burst of events becomes one wake-up) and reads a copy.
public final class KubeObjectCache: Sendable {
    private let stores = Mutex<[String: ObjectStore]>([:])
    private let continuation: AsyncStream<Void>.Continuation
    /// Yields after changes; newest-only, so wake-ups coalesce and never pile up.
    public let changes: AsyncStream<Void>

    public init() {
        (changes, continuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    public func apply(_ change: ResourceChange, to resource: KubeResource) {
        stores.withLock { $0[resource.name, default: ObjectStore()].apply(change) }
        continuation.yield(())
    }

    /// The objects of `resource`; empty before its first list.
    public func objects(of resource: KubeResource) -> [ObjectKey: DocumentValue] {
        stores.withLock { $0[resource.name]?.objects ?? [:] }
    }

    /// True once every one of `resources` has been listed completely: before
    /// that the agent must not enforce from a partial picture.
    public func hasSynced(_ resources: [KubeResource]) -> Bool {
        stores.withLock { stores in resources.allSatisfy { stores[$0.name]?.hasSynced == true } }
    }

    public func finish() { continuation.finish() }
}

/// Lists and watches several resources into one cache, one thread each.
public struct KubeWatcher: Sendable {
    public let client: HTTPClient
    public let resources: [KubeResource]
    public let settings: ListWatch.Settings

    public init(client: HTTPClient, resources: [KubeResource] = KubeResource.agentResources,
                settings: ListWatch.Settings = ListWatch.Settings()) {
        self.client = client
        self.resources = resources
        self.settings = settings
    }

    /// Runs until the task is cancelled; `report` gets lines worth logging.
    public func run(into cache: KubeObjectCache, report: @escaping @Sendable (String) -> Void) async {
        await run(decode: { $1 }, onChange: { cache.apply($1.resourceChange, to: $0) }, report: report)
    }

    /// Runs until the task is cancelled, handing each resource's changes in
    /// order to `onChange` on that resource's thread, every object as
    /// `decode` made it: for a consumer that keeps its own (smaller) form of
    /// the objects instead of the cache.
    public func run<Value: Sendable>(decode: @escaping @Sendable (KubeResource, DocumentValue) -> Value,
                                     onChange: @escaping @Sendable (KubeResource, DecodedChange<Value>) -> Void,
                                     report: @escaping @Sendable (String) -> Void) async {
        await withTaskGroup(of: Void.self) { group in
            for resource in resources {
                let listWatch = ListWatch(client: client, resource: resource, settings: settings)
                group.addTask {
                    await listWatch.run(decode: { decode(resource, $0) }, onChange: { onChange(resource, $0) }, onReport: report)
                }
            }
        }
    }
}
