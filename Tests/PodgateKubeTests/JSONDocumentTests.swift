import Testing
import PodgateModel
@testable import PodgateKube

@Suite struct JSONDocumentTests {
    @Test func scalarsKeepTheirKind() throws {
        let doc = try JSONDocument.parse(#"{"s":"8080","n":8080,"b":true,"z":null,"f":1.5,"l":[1,"a"],"o":{}}"#)
        #expect(doc["s"] == .scalar("8080", plain: false))
        #expect(doc["n"] == .scalar("8080", plain: true))
        #expect(doc["n"]?.integer == 8080)
        #expect(doc["s"]?.integer == nil)
        #expect(doc["b"]?.bool == true)
        #expect(doc["z"]?.isNull == true)
        #expect(doc["f"] == .scalar("1.5", plain: true))
        #expect(doc["l"] == .list([.scalar("1", plain: true), .scalar("a", plain: false)]))
        #expect(doc["o"] == .map([]))
    }

    @Test func quotedTrueIsAString() throws {
        let doc = try JSONDocument.parse(#"{"a":"true","b":"null"}"#)
        #expect(doc["a"]?.bool == nil)
        #expect(doc["b"]?.string == "null")
    }

    @Test func numbersAndBooleansAtTheEdges() throws {
        let doc = try JSONDocument.parse(#"{"a":0,"b":1,"c":-7,"d":9223372036854775807,"e":false,"f":[true,false,0,1]}"#)
        #expect(doc["a"] == .scalar("0", plain: true))
        #expect(doc["b"] == .scalar("1", plain: true))
        #expect(doc["c"]?.integer == -7)
        #expect(doc["d"]?.integer == Int.max)
        #expect(doc["e"] == .scalar("false", plain: true))
        #expect(doc["f"] == .list([.scalar("true", plain: true), .scalar("false", plain: true), .scalar("0", plain: true), .scalar("1", plain: true)]))
    }

    @Test func malformedJSONThrows() {
        #expect(throws: (any Error).self) { try JSONDocument.parse(#"{"a":"#) }
    }
}
