import Testing
@testable import PodgateBenchCore

@Suite struct StatisticsTests {
    @Test func medianOfOddAndEvenCounts() {
        #expect(Statistics.median([]) == nil)
        #expect(Statistics.median([5]) == 5)
        #expect(Statistics.median([3, 1, 2]) == 2)
        #expect(Statistics.median([4, 1, 3, 2]) == 2.5)
    }

    @Test func nearestRankPercentile() {
        let samples = (1...100).map(Double.init).shuffled()
        #expect(Statistics.percentile(samples, 99) == 99)
        #expect(Statistics.percentile(samples, 100) == 100)
        #expect(Statistics.percentile(samples, 50) == 50)
        #expect(Statistics.percentile(samples, 0) == 1)
        #expect(Statistics.percentile([7, 3], 99) == 7)
        #expect(Statistics.percentile([], 99) == nil)
        #expect(Statistics.percentile([1], 101) == nil)
    }

    @Test func ratioNeedsAReference() {
        #expect(Statistics.ratio(9, to: 10) == 0.9)
        #expect(Statistics.ratio(9, to: 0) == nil)
        #expect(Statistics.ratio(nil, to: 1) == nil)
    }
}

@Suite struct ReportFormatTests {
    @Test func fixedRoundsHalfAwayFromZero() {
        #expect(ReportFormat.fixed(1.005, digits: 1) == "1.0")
        #expect(ReportFormat.fixed(0.9751, digits: 3) == "0.975")
        #expect(ReportFormat.fixed(2.5, digits: 0) == "3")
        #expect(ReportFormat.fixed(-1.25, digits: 1) == "-1.3")
        #expect(ReportFormat.fixed(0.04, digits: 2) == "0.04")
        #expect(ReportFormat.fixed(-0.0001, digits: 2) == "0.00")
    }

    @Test func compactFigures() {
        #expect(ReportFormat.figure(12_345) == "12.3k")
        #expect(ReportFormat.figure(123_456) == "123k")
        #expect(ReportFormat.figure(999) == "999")
        #expect(ReportFormat.figure(42.25) == "42.3")
        #expect(ReportFormat.figure(3.14159) == "3.14")
        #expect(ReportFormat.figure(0.0123) == "0.012")
        #expect(ReportFormat.figure(.nan) == "-")
    }

    @Test func sizeNames() {
        #expect(ReportFormat.count(1) == "1")
        #expect(ReportFormat.count(1_000) == "1k")
        #expect(ReportFormat.count(150_000) == "150k")
        #expect(ReportFormat.count(1_500) == "1500")
        #expect(ReportFormat.count(2_000_000) == "2M")
    }

    @Test func jsonRecordIsOneLineWithEveryField() {
        let record = BenchRecord(suite: "datapath", configuration: "C \"iptables\"", size: "rules ahead=30k", metric: "conn/s",
                                 median: 1234.5, ratioToA: 0.5, runs: 5, note: "tab\there")
        #expect(ReportFormat.json(record) ==
            #"{"suite":"datapath","configuration":"C \"iptables\"","size":"rules ahead=30k","metric":"conn/s","median":1234.5,"ratio_to_a":0.5,"ratio_ci95":null,"p99":null,"runs":5,"note":"tab\there"}"#)
        let missing = BenchRecord(suite: "s", configuration: "c", size: "-", metric: "m", median: .nan)
        #expect(ReportFormat.json(missing).contains(#""median":null"#))
        #expect(ReportFormat.json(missing).contains(#""ratio_to_a":null"#))
        #expect(!ReportFormat.json(missing).contains("note"))
    }

    @Test func tableAlignsColumns() {
        let records = [
            BenchRecord(suite: "datapath", configuration: "A none", size: "-", metric: "conn/s", median: 10_000, ratioToA: 1, runs: 5),
            BenchRecord(suite: "datapath", configuration: "B podgate client+server", size: "policy=10k addr=100k", metric: "conn/s",
                        median: 9_800, ratioToA: 0.98, runs: 5),
        ]
        let lines = ReportFormat.table(records).split(separator: "\n").map(String.init)
        #expect(lines.count == 3)
        let header = Array(lines[0])
        let column = (0..<header.count).first { String(header[$0...].prefix(6)) == "median" }!
        #expect(lines[1].dropFirst(column).hasPrefix("10.0k"))
        #expect(lines[2].dropFirst(column).hasPrefix("9800"))
        #expect(lines[2].contains("0.980"))
        #expect(lines.allSatisfy { !$0.hasSuffix(" ") })
    }

    @Test func markdownHasOneRowPerRecord() {
        let records = [BenchRecord(suite: "a|b", configuration: "c", size: "-", metric: "m", median: 1)]
        let lines = ReportFormat.markdown(records).split(separator: "\n")
        #expect(lines.count == 3)
        #expect(lines[2].hasPrefix("| a/b | c |"))
    }
}
