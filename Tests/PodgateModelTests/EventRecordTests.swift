import Foundation
import Testing
import PodgateModel

/// The event record is the contract between the agent (writer) and the
/// simulator, `events tail` and the tests (readers): the words are the ones
/// policy-semantics.md, "Events", and the README's sample line use.
@Suite struct EventRecordTests {
    /// README.md, "Events": the line `podgate events tail -o json` printed.
    static let readmeLine = #"{"comm":"podgate","defaultPolicy":"deny (annotation on namespace demo)","dst":"10.244.0.3","dstPod":"demo/backend","dstPort":9000,"nearestMiss":[],"node":"a","pid":28937,"policies":[],"protocol":"TCP","reason":"default-deny","src":"10.244.0.2","srcKind":"pod","srcPod":"demo/frontend","srcPort":0,"time":"2026-11-30T00:17:14.194Z","verdict":"denied","where":"client"}"#

    @Test func theDocumentedLineDecodesAndEncodesBackByteForByte() throws {
        let record = try JSONDecoder().decode(EventRecord.self, from: Data(Self.readmeLine.utf8))
        #expect(record.where == .client && record.verdict == .denied && record.reason == .defaultDeny && record.srcKind == .pod)
        #expect(record.change == nil && record.pid == 28937 && record.nearestMiss == [])
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        #expect(String(decoding: try encoder.encode(record), as: UTF8.self) == Self.readmeLine)
    }

    @Test func everyReasonIsWrittenByItsNameAndReadBack() throws {
        for reason in DecisionReason.allCases {
            let text = String(decoding: try JSONEncoder().encode([reason]), as: UTF8.self)
            #expect(text == "[\"\(reason.description)\"]")
            #expect(try JSONDecoder().decode([DecisionReason].self, from: Data(text.utf8)) == [reason])
        }
        #expect(DecisionReason(name: "not-authorized") == .notAuthorized)
        #expect(DecisionReason(name: "2") == nil, "a reason is a name, not the ABI number")
    }

    @Test func aWordOutsideTheContractIsNotAnEvent() {
        for (field, word) in [("verdict", "allowed"), ("where", "middle"), ("reason", "because"), ("srcKind", "alien")] {
            let line = Self.readmeLine.replacingOccurrences(of: "\"\(field)\":\"", with: "\"\(field)\":\"\(word)")
            #expect(throws: DecodingError.self, "\(field)") { try JSONDecoder().decode(EventRecord.self, from: Data(line.utf8)) }
        }
    }

    @Test func theSummaryNamesBothEndsTheReasonAndTheCause() {
        var record = EventRecord(time: "t", node: "a", where: .server, verdict: .revoked, reason: .notAuthorized, protocol: "UDP",
                                 src: "10.0.0.1", srcPort: 5000, dst: "10.0.0.2", dstPort: 53, srcPod: nil, srcKind: .remoteNode,
                                 dstPod: "kube-system/dns", policies: ["kube-system/dns"], pid: nil, comm: nil)
        record.change = ["policy kube-system/dns changed"]
        #expect(record.summary == "revoked server UDP remote-node 10.0.0.1:5000 -> kube-system/dns 10.0.0.2:53 reason=not-authorized"
                + " policies: kube-system/dns after: policy kube-system/dns changed")
    }

    /// A source known only by its identity is named by the reserved
    /// identity's one name (the names `maps dump` and `explain` print).
    @Test func reservedIdentitiesNameTheSourceKind() {
        #expect(IdentityID.reserved.map { $0.reservedName } == ["host", "world", "remote-node", "unknown-pod"])
        for identity in IdentityID.reserved {
            #expect(EventRecord.SourceKind(identity: identity).rawValue == identity.reservedName)
        }
        #expect(EventRecord.SourceKind(identity: IdentityID(IdentityID.firstPod)) == .pod)
        #expect(EventRecord.SourceKind(identity: IdentityID(IdentityID.firstCIDR)) == .world, "a CIDR class is the world")
        #expect(EventRecord.SourceKind(identity: .none) == .world)
        #expect(IdentityID.none.reservedName == nil && IdentityID(IdentityID.firstPod).reservedName == nil)
    }
}
