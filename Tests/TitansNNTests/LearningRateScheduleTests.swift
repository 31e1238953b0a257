import Foundation
import Testing
@testable import TitansNN

@Suite("Learning-rate schedule")
struct LearningRateScheduleTests {
    private func expectClose(_ a: Double, _ b: Double, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(Swift.abs(a - b) <= 1e-15, "\(a) vs \(b)", sourceLocation: sourceLocation)
    }

    @Test func valuesAtTheBoundaries() {
        let schedule = LearningRateSchedule(peak: 1e-3, warmupSteps: 10, totalSteps: 110, minimum: 1e-4)
        #expect(schedule(0) == 0)
        #expect(schedule(-5) == 0)
        expectClose(schedule(1), 1e-4)
        expectClose(schedule(5), 5e-4)
        expectClose(schedule(9), 9e-4)
        expectClose(schedule(10), 1e-3)
        // Half-way through the decay the cosine is 0: the midpoint of peak and minimum.
        expectClose(schedule(60), 5.5e-4)
        expectClose(schedule(35), 1e-4 + 9e-4 * 0.5 * (1 + cos(Double.pi / 4)))
        expectClose(schedule(109), 1e-4 + 9e-4 * 0.5 * (1 + cos(Double.pi * 99 / 100)))
        #expect(schedule(110) == 1e-4)
        #expect(schedule(111) == 1e-4)
        #expect(schedule(1_000_000) == 1e-4)
        #expect(schedule.learningRate(at: 60) == schedule(60))
    }

    @Test func warmUpRisesAndDecayFalls() {
        let schedule = LearningRateSchedule(peak: 2, warmupSteps: 20, totalSteps: 200)
        let values = (0...220).map { schedule($0) }
        for s in 0..<20 { #expect(values[s] < values[s + 1]) }
        for s in 20..<200 { #expect(values[s] > values[s + 1]) }
        #expect(values.max() == 2)
        #expect(values[200] == 0)
        #expect(values[220] == 0)
    }

    @Test func withoutWarmUpItStartsAtThePeak() {
        let schedule = LearningRateSchedule(peak: 3e-4, warmupSteps: 0, totalSteps: 100)
        #expect(schedule(0) == 3e-4)
        expectClose(schedule(50), 1.5e-4)
        #expect(schedule(100) == 0)
    }

    @Test func warmUpToTheEndThenMinimum() {
        let schedule = LearningRateSchedule(peak: 1, warmupSteps: 4, totalSteps: 4, minimum: 0.25)
        #expect(schedule(2) == 0.5)
        #expect(schedule(3) == 0.75)
        #expect(schedule(4) == 0.25)
    }

    @Test func isCodable() throws {
        let schedule = LearningRateSchedule(peak: 1e-3, warmupSteps: 10, totalSteps: 110, minimum: 1e-5)
        let decoded = try JSONDecoder().decode(LearningRateSchedule.self, from: JSONEncoder().encode(schedule))
        #expect(decoded == schedule)
    }
}
