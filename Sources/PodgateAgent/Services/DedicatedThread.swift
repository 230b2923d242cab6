import Foundation

/// Blocking work (accept, poll, a netlink socket) runs on a thread of its
/// own, never on the cooperative pool. Every thread the agent starts starts here.
enum DedicatedThread {
    /// Starts `body` on a new thread named `name` and returns at once.
    static func start(_ name: String, _ body: @escaping @Sendable () -> Void) {
        let thread = Thread(block: body)
        thread.name = name
        thread.start()
    }

    /// Runs `body` on a new thread and returns when it does. Cancelling the
    /// calling task calls `stop`, which must make `body` return soon.
    static func run(_ name: String, stop: @escaping @Sendable () -> Void, _ body: @escaping @Sendable () -> Void) async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (finished: CheckedContinuation<Void, Never>) in
                start(name) {
                    body()
                    finished.resume()
                }
            }
        } onCancel: {
            stop()
        }
    }
}

/// Long-running work of the agent: `run()` runs inside the agent's task
/// group and returns once the task is cancelled.
protocol Service: Sendable {
    func run() async
}
