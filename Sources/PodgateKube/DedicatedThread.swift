#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// A flag another thread sets to stop blocking work: checked by libcurl's
/// progress callback (at least once a second) and by backoff sleeps.
public final class CancellationFlag: Sendable {
    private let state = Atomic<Bool>(false)
    public init() {}
    public func cancel() { state.store(true, ordering: .relaxed) }
    public var isCancelled: Bool { state.load(ordering: .relaxed) }

    /// Sleeps up to `milliseconds`, waking early when cancelled. Returns false if cancelled.
    func sleep(milliseconds: Int) -> Bool {
        var left = milliseconds
        while left > 0 {
            if isCancelled { return false }
            let slice = min(left, 20)
            usleep(UInt32(slice * 1000))
            left -= slice
        }
        return !isCancelled
    }
}

/// Blocking calls (libcurl transfers, backoff sleeps) run on a thread of
/// their own, never on Swift's cooperative pool, which has one thread per core.
enum DedicatedThread {
    private final class Body {
        let run: @Sendable () -> Void
        init(_ run: @escaping @Sendable () -> Void) { self.run = run }
    }

    static func start(_ run: @escaping @Sendable () -> Void) {
        let body = Unmanaged.passRetained(Body(run)).toOpaque()
        var thread = pthread_t()
        // A closure that captures nothing is a valid C function pointer; the
        // Swift body travels through the context pointer.
        let created = pthread_create(&thread, nil, { context in
            guard let context else { return nil }
            let body = Unmanaged<Body>.fromOpaque(context).takeRetainedValue()
            body.run()
            return nil
        }, body)
        if created == 0 {
            pthread_detach(thread)
        } else {
            // No thread: run inline rather than lose the work.
            Unmanaged<Body>.fromOpaque(body).takeRetainedValue().run()
        }
    }

    /// Runs blocking `work` on its own thread; cancelling the task sets the flag it gets.
    static func run<T: Sendable>(_ work: @escaping @Sendable (CancellationFlag) throws -> T) async throws -> T {
        let flag = CancellationFlag()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                start { continuation.resume(with: Result { try work(flag) }) }
            }
        } onCancel: {
            flag.cancel()
        }
    }
}
