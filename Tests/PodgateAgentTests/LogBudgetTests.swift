import Testing
@testable import PodgateAgent

@Suite struct LogBudgetTests {
    @Test func logsUpToTheBudgetThenCountsWhatItLeftOutOnce() {
        var budget = LogBudget(perSecond: 3)
        let first = (0..<5).map { _ in budget.admit(atSecond: 10) }
        #expect(first.map(\.log) == [true, true, true, false, false])
        #expect(first.allSatisfy { $0.leftOut == nil })
        let next = budget.admit(atSecond: 11)
        #expect(next.log && next.leftOut == 2)
        #expect(budget.admit(atSecond: 11).leftOut == nil)
        #expect(budget.admit(atSecond: 12).leftOut == nil)
    }
}
