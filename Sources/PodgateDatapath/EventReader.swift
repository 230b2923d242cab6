import CLibbpf
import CPodgateABI
import PodgateModel
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Reads podgate_events on a dedicated thread (ring_buffer__poll blocks, so
/// it stays off Swift's cooperative pool) and hands each decoded event to a
/// callback, or to an AsyncStream with a bounded buffer.
///
/// `@unchecked Sendable`: it owns a libbpf `ring_buffer *`, which is not
/// Sendable. The pointer is created in init, polled only by the reader
/// thread, and freed in deinit, which cannot run before that thread has
/// exited (the thread holds a strong reference). The thread handle is
/// behind a Mutex; the stop flag is atomic.
public final class DatapathEventReader: @unchecked Sendable {
    /// What was left out: the consumer's buffer was full, or an event could
    /// not be decoded. (Events the kernel could not queue are counted in
    /// DatapathCounters.eventsLost.)
    public final class Statistics: Sendable {
        let droppedCount = Atomic<Int>(0)
        let undecodableCount = Atomic<Int>(0)
        public var dropped: Int { droppedCount.load(ordering: .relaxed) }
        public var undecodable: Int { undecodableCount.load(ordering: .relaxed) }
    }

    /// The ring buffer callback's context, passed as an unretained pointer;
    /// the reader keeps it alive.
    private final class Sink: Sendable {
        let deliver: @Sendable (DatapathEvent) -> Void
        let statistics: Statistics
        init(deliver: @escaping @Sendable (DatapathEvent) -> Void, statistics: Statistics) {
            self.deliver = deliver
            self.statistics = statistics
        }
    }

    public let statistics: Statistics
    private let maps: DatapathMaps      // keeps the ring buffer's map fd open
    private let sink: Sink
    private let ring: OpaquePointer
    private let stopping = Atomic<Bool>(false)
    private let thread = Mutex<pthread_t?>(nil)
    private let onExit: (@Sendable () -> Void)?

    /// Prepares a reader; `start()` begins delivery.
    public convenience init(maps: DatapathMaps, onEvent: @escaping @Sendable (DatapathEvent) -> Void) throws {
        try self.init(maps: maps, statistics: Statistics(), onEvent: onEvent, onExit: nil)
    }

    private init(maps: DatapathMaps, statistics: Statistics, onEvent: @escaping @Sendable (DatapathEvent) -> Void,
                 onExit: (@Sendable () -> Void)?) throws {
        self.maps = maps
        self.statistics = statistics
        self.onExit = onExit
        let sink = Sink(deliver: onEvent, statistics: statistics)
        self.sink = sink
        let context = Unmanaged.passUnretained(sink).toOpaque()
        guard let ring = ring_buffer__new(maps.eventsFD, DatapathEventReader.sample, context, nil) else {
            throw DatapathError.fromErrno("open ring buffer", PODGATE_MAP_EVENTS)
        }
        self.ring = ring
    }

    /// Events as an AsyncStream that keeps at most `bufferLimit` undelivered
    /// events, dropping the oldest under a flood (counted in `statistics`).
    /// The stream finishes when the reader stops; cancelling the consumer
    /// stops the reader.
    public static func stream(maps: DatapathMaps, bufferLimit: Int = 4096) throws
        -> (events: AsyncStream<DatapathEvent>, reader: DatapathEventReader) {
        let (stream, continuation) = AsyncStream.makeStream(of: DatapathEvent.self,
                                                            bufferingPolicy: .bufferingNewest(bufferLimit))
        let statistics = Statistics()
        let reader = try DatapathEventReader(maps: maps, statistics: statistics, onEvent: { event in
            if case .dropped = continuation.yield(event) {
                statistics.droppedCount.add(1, ordering: .relaxed)
            }
        }, onExit: { continuation.finish() })
        continuation.onTermination = { [weak reader] _ in reader?.stop() }
        try reader.start()
        return (stream, reader)
    }

    /// Starts the polling thread. Calling it twice does nothing.
    public func start() throws {
        try thread.withLock { handle in
            guard handle == nil else { return }
            let context = Unmanaged.passRetained(self).toOpaque()
            var created = pthread_t()
            let result = pthread_create(&created, nil, { raw in
                guard let raw else { return nil }
                let reader = Unmanaged<DatapathEventReader>.fromOpaque(raw).takeRetainedValue()
                reader.poll()
                return nil
            }, context)
            guard result == 0 else {
                Unmanaged<DatapathEventReader>.fromOpaque(context).release()
                throw DatapathError(operation: "start thread", object: PODGATE_MAP_EVENTS, errno: result)
            }
            handle = created
        }
    }

    /// Stops polling and waits for the thread (at most one poll interval).
    /// Events already queued in the kernel stay there for the next reader.
    public func stop() {
        stopping.store(true, ordering: .releasing)
        let handle = thread.withLock { handle -> pthread_t? in
            defer { handle = nil }
            return handle
        }
        if let handle, pthread_equal(handle, pthread_self()) == 0 {
            pthread_join(handle, nil)
        } else if let handle {
            pthread_detach(handle)
        }
    }

    deinit {
        stop()
        ring_buffer__free(ring)
    }

    private func poll() {
        while !stopping.load(ordering: .acquiring) {
            let result = ring_buffer__poll(ring, 100)
            if result < 0 && result != -EINTR { break }
        }
        onExit?()
    }

    private static let sample: ring_buffer_sample_fn = { context, data, size in
        guard let context, let data else { return 0 }
        let sink = Unmanaged<Sink>.fromOpaque(context).takeUnretainedValue()
        guard size >= MemoryLayout<podgate_event>.size,
              let event = try? DatapathEvent(UnsafeRawPointer(data).loadUnaligned(as: podgate_event.self)) else {
            sink.statistics.undecodableCount.add(1, ordering: .relaxed)
            return 0
        }
        sink.deliver(event)
        return 0
    }
}
