import PodgateDatapath
import PodgateModel
import Synchronization

/// Events that arrive before the first compilation. A starting agent finds
/// in the pinned ring buffer the refusals made while it was down; naming
/// them (pods, policies, the client's source address) needs the cluster, so
/// they wait, in order and bounded, for the first published state instead of
/// being reported by bare address.
final class EventBacklog: Sendable {
    static let capacity = 16_384

    private struct State {
        var open = false
        var events: [DatapathEvent] = []
    }
    private let state = Mutex(State())

    /// True when the event is kept for later; false when the caller reports it
    /// now (the first state is published, or the backlog is full).
    func hold(_ event: DatapathEvent) -> Bool {
        state.withLock { state in
            guard !state.open, state.events.count < Self.capacity else { return false }
            state.events.append(event)
            return true
        }
    }

    /// Hands the kept events, oldest first, to `report`, once. Events that
    /// arrive meanwhile wait for the lock, so the order is kept.
    func release(_ report: (DatapathEvent) -> Void) {
        state.withLock { state in
            guard !state.open else { return }
            state.open = true
            state.events.forEach(report)
            state.events = []
        }
    }

    /// The pod numbers in an event written before this agent started come
    /// from the previous agent's maps: take them from the current state by
    /// address, where the address is known.
    static func renumbered(_ event: DatapathEvent, by state: DesiredState) -> DatapathEvent {
        var event = event
        if let value = state.addresses[event.destination], value.kind == .pod { event.destinationPodID = value.podID }
        if event.location != .client, let value = state.addresses[event.source], value.kind == .pod { event.sourcePodID = value.podID }
        if let endpoint = state.endpoints[event.cgroup] {
            if event.location == .server { event.destinationPodID = endpoint.podID } else { event.sourcePodID = endpoint.podID }
        }
        return event
    }
}
