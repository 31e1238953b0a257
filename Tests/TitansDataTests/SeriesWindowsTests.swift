import Foundation
import Testing
@testable import TitansData

struct SeriesWindowsTests {
    /// A table of `steps` rows: column a is the step, column b is 5 everywhere.
    static func table(_ steps: Int) throws -> SeriesTable {
        try SeriesTable.parse(Data((["a,b"] + (0..<steps).map { "\($0),5" }).joined(separator: "\n").utf8), path: "t.csv")
    }

    /// The 70/10/20 split in time order; validation and test windows read their lookback from before, and every step
    /// they forecast lies in their part; values normalised by the training part's statistics.
    @Test func splitsInTimeAndNormalisesByTheTrainingPart() throws {
        let windows = try SeriesWindows(Self.table(100), lookback: 8, horizon: 4)
        #expect((windows.trainSteps, windows.validationSteps, windows.testSteps) == (70, 10, 20))
        #expect(windows.starts(.train) == 0..<59 && windows.starts(.validation) == 62..<69 && windows.starts(.test) == 72..<89)
        // Training part of column a: 0…69, mean 34.5, deviation √((70² − 1)/12); column b constant: deviation 1.
        let deviation = Float((Double(70 * 70 - 1) / 12).squareRoot())
        #expect(windows.mean == [34.5, 5] && abs(windows.deviation[0] - deviation) < 1e-4 && windows.deviation[1] == 1)
        let (input, target) = windows.window(at: 72)
        #expect(input.count == 16 && target.count == 8)
        #expect(abs(input.first! - (72 - 34.5) / deviation) < 1e-5 && input[input.startIndex + 1] == 0)
        #expect(abs(target.last! - 0) < 1e-6 || abs(target[target.endIndex - 2] - (83 - 34.5) / deviation) < 1e-5)
        let last = windows.window(at: windows.starts(.test).upperBound - 1).target
        #expect(abs(last[last.endIndex - 2] - (99 - 34.5) / deviation) < 1e-5)  // the last step of the series
    }

    /// Batches hold their windows in order; even starts cover a part from its first window to its last.
    @Test func batchesAndEvenStarts() throws {
        let windows = try SeriesWindows(Self.table(100), lookback: 8, horizon: 4)
        let batch = windows.batch([3, 10])
        #expect(batch.history.shape == [2, 8, 2] && batch.target.shape == [2, 4, 2])
        #expect(Array(batch.history.toFloatArray()[16..<32]) == Array(windows.window(at: 10).input))
        let single = windows.batch([(start: 10, column: 0), (start: 3, column: 1)])
        #expect(single.history.shape == [2, 8, 1] && single.target.shape == [2, 4, 1])
        #expect(single.history.toFloatArray()[0..<8] == batch.history.toFloatArray()[16..<32].enumerated().filter { $0.offset % 2 == 0 }.map(\.element)[...])
        #expect(single.target.toFloatArray()[4..<8] == batch.target.toFloatArray()[0..<8].enumerated().filter { $0.offset % 2 == 1 }.map(\.element)[...])
        #expect(windows.evenStarts(.test, count: 3) == [72, 80, 88] && windows.evenStarts(.validation, count: 100) == Array(62..<69))
    }

    /// A series too short for the split says how many steps it needs, and that many are enough.
    @Test func tooShortASeriesSaysWhatItNeeds() throws {
        var needed = 0
        do {
            _ = try SeriesWindows(Self.table(30), lookback: 8, horizon: 4)
            Issue.record("30 steps should be too few")
        } catch SeriesWindowsError.tooShort(_, _, _, let count) { needed = count }
        #expect(needed > 30)
        for steps in needed..<(needed + 20) { _ = try SeriesWindows(Self.table(steps), lookback: 8, horizon: 4) }
        #expect(throws: SeriesWindowsError.badLengths(lookback: 0, horizon: 4)) { try SeriesWindows(Self.table(100), lookback: 0, horizon: 4) }
    }
}
