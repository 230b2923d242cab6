import Foundation
import Testing
import PodgateModel
@testable import PodgateKube
import PodgateKubeFixtures

/// The API client keeps its connection alive (issue 15, item 6): listing
/// 150k pods in 500-pod pages over a new TLS connection each took about
/// 0.5 s a page. The fixture server keeps an HTTP/1.1 connection open after
/// a Content-Length answer, as the API server does, and numbers the
/// connections it accepts.
@Suite(.serialized) struct ConnectionReuseTests {
    @Test func everyPageOfAListAndTheWatchAfterGoOverOneConnection() async throws {
        let cluster = try FixtureListWatchTests.cluster(["a", "b", "c", "d", "e", "f", "g"])
        defer { cluster.stop() }
        // Page size 2: four pages for seven pods, then the watch.
        let recorder = try await FixtureListWatchTests.run(cluster) { recorder in
            recorder.syncCount == 1 && cluster.received.contains(where: \.isWatch)
        }
        #expect(recorder.names.count == 7)
        let requests = cluster.received
        let lists = requests.filter { !$0.isWatch }
        #expect(lists.count == 4, "pages: \(lists.map(\.query))")
        #expect(Set(lists.map(\.connection)) == [0], "each page opened its own connection: \(lists.map(\.connection))")
        let watch = try #require(requests.first { $0.isWatch })
        #expect(watch.connection == 0, "the watch after the list opened connection \(watch.connection)")
        #expect(cluster.server?.acceptedConnections == 1)
    }

    @Test func oneConnectionServesSeveralCollections() async throws {
        let cluster = try FixtureListWatchTests.cluster(["a", "b", "c"])
        defer { cluster.stop() }
        let client = HTTPClient(config: KubeConfig(server: cluster.url))
        let connection = HTTPConnection()
        let flag = CancellationFlag()
        for path in ["/api/v1/pods?limit=2", "/api/v1/namespaces", "/api/v1/pods?limit=500"] {
            #expect(try client.getBlocking(path, cancel: flag, connection: connection).status == 200)
        }
        #expect(cluster.server?.acceptedConnections == 1)
        // Without a connection each request is its own (what the client did before).
        _ = try client.getBlocking("/api/v1/pods", cancel: flag)
        #expect(cluster.server?.acceptedConnections == 2)
    }

    @Test func aRequestAfterTheServerClosedTheConnectionReconnects() async throws {
        let cluster = try FixtureListWatchTests.cluster(["a"])
        defer { cluster.stop() }
        let client = HTTPClient(config: KubeConfig(server: cluster.url))
        let connection = HTTPConnection()
        let flag = CancellationFlag()
        #expect(try client.getBlocking("/api/v1/pods", cancel: flag, connection: connection).status == 200)
        cluster.goDown()
        try cluster.comeBack()
        #expect(try client.getBlocking("/api/v1/pods", cancel: flag, connection: connection).status == 200)
    }

    @Test func theDefaultPageIsLargerThanClientGos() {
        // client-go lists in pages of 500; a kept-alive connection makes larger ones cheap.
        #expect(ListWatch.Settings().pageSize == 1000)
        #expect(KubeResource.pods.listQuery(limit: 1000, continueToken: nil) == "/api/v1/pods?limit=1000")
    }
}
