import Foundation
import PodgateDatapath

/// Everything `/metrics` shows, gathered at scrape time.
public struct MetricsInput: Sendable {
    public var counters: DatapathCounters?
    public var eventsEmitted: Int
    public var eventsSkipped: Int
    public var maps: [StatusReport.MapFill]
    public var compileSeconds: Histogram
    public var mapWriteSeconds: Histogram
    public var lastSyncUnixSeconds: Double?
    public var invalidPolicies: Int
    public var ready: Bool
    public var resyncRepairs: Int

    public init(counters: DatapathCounters?, eventsEmitted: Int, eventsSkipped: Int, maps: [StatusReport.MapFill],
                compileSeconds: Histogram, mapWriteSeconds: Histogram, lastSyncUnixSeconds: Double?,
                invalidPolicies: Int, ready: Bool, resyncRepairs: Int = 0) {
        self.counters = counters
        self.eventsEmitted = eventsEmitted
        self.eventsSkipped = eventsSkipped
        self.maps = maps
        self.compileSeconds = compileSeconds
        self.mapWriteSeconds = mapWriteSeconds
        self.lastSyncUnixSeconds = lastSyncUnixSeconds
        self.invalidPolicies = invalidPolicies
        self.ready = ready
        self.resyncRepairs = resyncRepairs
    }
}

/// The Prometheus text exposition format (version 0.0.4), written by hand:
/// a handful of families does not justify a client library.
public enum MetricsText {
    public static func render(_ input: MetricsInput) -> String {
        var out = ""
        func family(_ name: String, _ type: String, _ help: String) {
            out += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
        }
        func sample(_ name: String, _ labels: [(String, String)] = [], _ value: String) {
            let rendered = labels.isEmpty ? "" : "{" + labels.map { "\($0.0)=\"\(escape($0.1))\"" }.joined(separator: ",") + "}"
            out += "\(name)\(rendered) \(value)\n"
        }

        family("podgate_connections_total", "counter",
               "Connection decisions taken in the kernel, by direction (where), verdict and reason; exact (per-CPU counters).")
        if let counters = input.counters {
            for (decision, value) in counters.decisions.sorted(by: { $0.key.description < $1.key.description }) {
                sample("podgate_connections_total", [("direction", decision.location.description),
                                                     ("verdict", decision.verdict.description),
                                                     ("reason", decision.reason.description)], "\(value)")
            }
        }
        family("podgate_events_emitted_total", "counter", "Denied and audit events the agent read from the kernel and published.")
        sample("podgate_events_emitted_total", [], "\(input.eventsEmitted)")
        family("podgate_events_lost_total", "counter", "Events lost: where=kernel the ring buffer was full; where=subscriber a slow `events tail` skipped them.")
        sample("podgate_events_lost_total", [("where", "kernel")], "\(input.counters?.eventsLost ?? 0)")
        sample("podgate_events_lost_total", [("where", "subscriber")], "\(input.eventsSkipped)")
        family("podgate_spoofed_packets_dropped_total", "counter", "Packets dropped leaving a pod with a source address not its own.")
        sample("podgate_spoofed_packets_dropped_total", [], "\(input.counters?.spoofDropped ?? 0)")
        family("podgate_forged_inbound_dropped_total", "counter", "Packets dropped arriving with a forged local source: where=pod the receiving pod's own address from outside it; where=edge this node's or a local pod's address from outside the node.")
        sample("podgate_forged_inbound_dropped_total", [("where", "pod")], "\(input.counters?.forgedInbound ?? 0)")
        sample("podgate_forged_inbound_dropped_total", [("where", "edge")], "\(input.counters?.edgeForged ?? 0)")

        family("podgate_map_entries", "gauge", "Entries in each BPF map.")
        for map in input.maps { sample("podgate_map_entries", [("map", map.map)], "\(map.entries)") }
        family("podgate_map_capacity", "gauge", "Maximum entries of each BPF map.")
        for map in input.maps { sample("podgate_map_capacity", [("map", map.map)], "\(map.capacity)") }

        for (name, help, histogram) in [
            ("podgate_policy_compile_seconds", "Time to compile the cluster snapshot into desired map state.", input.compileSeconds),
            ("podgate_map_write_seconds", "Time to write one reconcile's map changes into the kernel.", input.mapWriteSeconds),
        ] {
            family(name, "histogram", help)
            for (bound, count) in zip(histogram.bounds, histogram.counts) {
                sample(name + "_bucket", [("le", number(bound))], "\(count)")
            }
            sample(name + "_bucket", [("le", "+Inf")], "\(histogram.count)")
            sample(name + "_sum", [], number(histogram.sum))
            sample(name + "_count", [], "\(histogram.count)")
        }

        family("podgate_last_sync_timestamp_seconds", "gauge", "Unix time of the last reconcile whose maps reached the kernel.")
        sample("podgate_last_sync_timestamp_seconds", [], input.lastSyncUnixSeconds.map(number) ?? "0")
        family("podgate_invalid_policies", "gauge", "Policies that failed validation and are ignored.")
        sample("podgate_invalid_policies", [], "\(input.invalidPolicies)")
        family("podgate_resync_repairs_total", "counter",
               "Periodic full compiles that found the incrementally compiled state different, and repaired it (should stay 0).")
        sample("podgate_resync_repairs_total", [], "\(input.resyncRepairs)")
        family("podgate_ready", "gauge", "1 once the first full sync is in the kernel.")
        sample("podgate_ready", [], input.ready ? "1" : "0")
        return out
    }

    static func escape(_ value: String) -> String {
        value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n")
    }

    /// Shortest text that reads back to the same Double (Swift's description), integers without ".0".
    static func number(_ value: Double) -> String {
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return "\(value)"
    }
}
