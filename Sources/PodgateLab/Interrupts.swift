#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// SIGINT/SIGTERM set a flag; a run checks it between kernel operations and
/// in every wait, throws, and so cleans up on the ordinary error path.
public enum Interrupts {
    static let received = Atomic<Int32>(0)

    public static func install() {
        _ = received.load(ordering: .relaxed)  // initialise before any handler can run
        for signal in [SIGINT, SIGTERM] {
            var action = sigaction()
            action.__sigaction_handler.sa_handler = { number in
                Interrupts.received.store(number, ordering: .relaxed)
            }
            sigemptyset(&action.sa_mask)
            action.sa_flags = 0  // no SA_RESTART: blocking calls return EINTR and we look at the flag
            sigaction(signal, &action, nil)
        }
        Glibc.signal(SIGPIPE, SIG_IGN)
    }

    public static var signal: Int32? {
        let value = received.load(ordering: .relaxed)
        return value == 0 ? nil : value
    }

    public static func check() throws {
        if let signal { throw Interrupted(signal: signal) }
    }
}

public struct Interrupted: Error, CustomStringConvertible {
    public let signal: Int32
    public var description: String { signal == SIGINT ? "interrupted (SIGINT)" : "terminated (signal \(signal))" }
    public var exitCode: Int32 { 128 + signal }
}
