import Foundation

/// A task executor with one thread of its own. Swift's cooperative pool has
/// one thread per core (two here), and the kernel suites' synchronous tests
/// hold them for tens of seconds at a time: a watch loop with a deadline that
/// waits for a pool thread can miss its deadline without having run at all.
/// Tasks started with this preference (and their child tasks) run here instead.
public final class ThreadExecutor: TaskExecutor, @unchecked Sendable {
    // @unchecked: `jobs` is touched only under `condition`.
    private let condition = NSCondition()
    private var jobs: [UnownedJob] = []

    public init(name: String = "podgate-test-executor") {
        let thread = Thread { [unowned self] in self.loop() }
        thread.name = name
        thread.start()
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        condition.lock()
        jobs.append(job)
        condition.signal()
        condition.unlock()
    }

    private func loop() {
        while true {
            condition.lock()
            while jobs.isEmpty { condition.wait() }
            let job = jobs.removeFirst()
            condition.unlock()
            job.runSynchronously(on: asUnownedTaskExecutor())
        }
    }

    /// One executor for the whole test process: a thread per executor would
    /// outlive its test (the loop never ends), so they are not made per test.
    public static let shared = ThreadExecutor()
}
