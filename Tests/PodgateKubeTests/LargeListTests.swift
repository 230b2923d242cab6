import Testing
@testable import PodgateKube
import PodgateKubeFixtures

/// A relist of a large cluster decodes whole: 2000 pods (3.6 MB), every item
/// named, in the server's order. How long it takes is a benchmark's question
/// (`podgate bench control`), not a test's: a timed test fails on a loaded
/// machine and passes a regression on a fast one.
@Test func largeListDecodesEveryItem() throws {
    let items = (0..<2000).map { Fixtures.podJSON("p\($0)", uid: "u\($0)", resourceVersion: "\($0)") }
    let body = Array(Fixtures.listJSON(items: items, resourceVersion: "9").utf8)
    let page = try ListPage.decode(body: body)
    #expect(page.items.count == 2000)
    #expect(page.resourceVersion == "9")
    let names = page.items.map { $0["metadata"]?["name"]?.string ?? "" }
    #expect(names == (0..<2000).map { "p\($0)" })
}
