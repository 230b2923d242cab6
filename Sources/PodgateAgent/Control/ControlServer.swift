import Foundation
import PodgateLog
import PodgateModel
import PodgateDatapath

/// The agent's local control socket (`<state-dir>/agent.sock`, mode 0600).
/// One thread accepts; each connection gets its own thread, because an
/// `events` subscriber blocks on its queue for as long as it stays.
final class ControlServer: Service {
    private let view: AgentView
    private let listener: SocketListener
    let path: String
    private let log = Logger("control")

    /// Binds the socket; `run` serves it.
    init(view: AgentView, path: String) throws {
        self.view = view
        self.path = path
        listener = SocketListener(descriptor: try SocketIO.listenUnix(path: path), threadName: "podgate-control") { unlink(path) }
    }

    func run() async {
        await listener.run(serve: { [self] fd in
            DedicatedThread.start("podgate-control-conn") { [self] in
                serve(fd)
                close(fd)
            }
        }, failed: { [log, path] code in log.error("accept on \(path) failed: \(String(cString: strerror(code)))") })
    }

    /// Closes the socket and removes its file (also when `run` never ran).
    func stop() { listener.stop() }

    private func serve(_ fd: Int32) {
        var reader = LineReader(fd: fd)
        guard let line = reader.next() else { return }
        let request: ControlRequest
        do {
            request = try JSONDecoder().decode(ControlRequest.self, from: Data(line.utf8))
        } catch {
            reply(fd, ControlResponse(error: "the request is not a podgate control request: \(error)"))
            return
        }
        switch request.op {
        case .status:
            reply(fd, ControlResponse(status: StatusBuilder.build(view)))
        case .names:
            guard let state = view.state else { return reply(fd, ControlResponse(error: "the agent has not completed its first sync yet")) }
            reply(fd, ControlResponse(names: NameTablesBuilder.build(state)))
        case .explain:
            guard let query = request.explain else { return reply(fd, ControlResponse(error: "explain needs a query")) }
            guard let state = view.state else { return reply(fd, ControlResponse(error: "the agent has not completed its first sync yet")) }
            do {
                let realized = try view.datapath.realizedState()
                if !realized.unreadable.isEmpty { log.warning("unreadable map entries: \(realized.unreadable.joined(separator: "; "))") }
                reply(fd, ControlResponse(explain: try Explainer.explain(query, state: state, realized: realized.desiredStateShape)))
            } catch {
                reply(fd, ControlResponse(error: "\(error)"))
            }
        case .events:
            stream(fd, request.events ?? EventSubscriptionRequest())
        }
    }

    private func reply(_ fd: Int32, _ response: ControlResponse) {
        SocketIO.send(fd, Self.encode(response) + "\n")
    }

    /// Streams events until the client goes away. Waiting wakes once a
    /// second to notice a client that closed without reading.
    private func stream(_ fd: Int32, _ request: EventSubscriptionRequest) {
        let (subscription, replayed) = view.hub.subscribe(filter: request.filter, sinceSeconds: request.sinceSeconds,
                                                          queueLimit: request.queueLimit ?? 4096)
        defer { view.hub.unsubscribe(subscription) }
        var pendingReplay = replayed
        let encoder = EventRecord.jsonEncoder()  // one per stream, not one per event
        if pendingReplay == 0, !SocketIO.send(fd, Self.encode(EventStreamMessage(replayed: 0), using: encoder) + "\n") { return }
        while true {
            guard let item = subscription.next(timeout: 1) else {
                if SocketIO.peerHasClosed(fd) { return }
                continue
            }
            let message: EventStreamMessage
            switch item {
            case let .event(record): message = EventStreamMessage(event: record)
            case let .skipped(count): message = EventStreamMessage(skipped: count)
            }
            var text = Self.encode(message, using: encoder) + "\n"
            if pendingReplay > 0 {
                pendingReplay -= 1
                // The replay is over: say so, so a reader can tell history from live events.
                if pendingReplay == 0 { text += Self.encode(EventStreamMessage(replayed: replayed), using: encoder) + "\n" }
            }
            guard SocketIO.send(fd, text) else { return }
        }
    }

    static func encode<T: Encodable>(_ value: T, using encoder: JSONEncoder = EventRecord.jsonEncoder()) -> String {
        guard let data = try? encoder.encode(value) else { return "{\"error\":\"could not encode the response\"}" }
        return String(decoding: data, as: UTF8.self)
    }
}
