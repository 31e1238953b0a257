import Foundation

/// Forecasting windows over a ``SeriesTable``, split and normalised as the long-term-forecasting literature does (the
/// protocol behind the paper's Table 3):
///
/// - the steps are split in time order, 70% training, 10% validation, 20% test (counts rounded down for training and
///   test, validation the rest); a validation or test window may read its `lookback` from the part before, but every
///   step it forecasts lies in its part;
/// - every column is normalised by the mean and standard deviation of its training part (a constant column by 1), and
///   the scores are computed on the normalised values, so columns of every scale count alike;
/// - a window is `lookback` steps of every column (the input) and the `horizon` steps after them (the target).
///
/// ```swift
/// let windows = try SeriesWindows(table, lookback: 96, horizon: 96)
/// let (input, target) = windows.window(at: windows.starts(.test).lowerBound)   // [96 × C], [96 × C], row-major
/// ```
public struct SeriesWindows: Sendable {
    public enum Split: String, Sendable, CaseIterable { case train, validation, test }

    public let columns: [String]
    public let lookback: Int
    public let horizon: Int
    /// Per column, of the training part: what normalising subtracts and divides by.
    public let mean: [Float]
    public let deviation: [Float]
    /// Steps in each part.
    public let trainSteps: Int, validationSteps: Int, testSteps: Int
    /// The normalised values, row-major `[step, column]`.
    let values: [Float]

    public var channels: Int { columns.count }

    public init(_ table: SeriesTable, lookback: Int, horizon: Int) throws {
        guard lookback >= 1, horizon >= 1 else { throw SeriesWindowsError.badLengths(lookback: lookback, horizon: horizon) }
        let steps = table.steps
        (trainSteps, validationSteps, testSteps) = Self.parts(steps)
        guard Self.holdsWindows(steps, lookback: lookback, horizon: horizon) else {
            // Parts round down, so a longer series can hold less validation: the least length from which on every one holds.
            let needed = max((lookback + horizon) * 10 / 7 + 1, horizon * 10)
            throw SeriesWindowsError.tooShort(steps: steps, lookback: lookback, horizon: horizon, needed: needed)
        }
        (columns, self.lookback, self.horizon) = (table.columns, lookback, horizon)
        let c = table.columns.count
        var mean = [Float](repeating: 0, count: c), deviation = [Float](repeating: 1, count: c)
        for column in 0..<c {
            var sum = 0.0, squares = 0.0
            for t in 0..<trainSteps { sum += Double(table.values[t * c + column]) }
            let mu = sum / Double(trainSteps)
            for t in 0..<trainSteps { squares += (Double(table.values[t * c + column]) - mu) * (Double(table.values[t * c + column]) - mu) }
            let sigma = (squares / Double(trainSteps)).squareRoot()
            mean[column] = Float(mu)
            deviation[column] = sigma > 1e-8 * max(1, abs(mu)) ? Float(sigma) : 1
        }
        (self.mean, self.deviation) = (mean, deviation)
        values = table.values.enumerated().map { index, value in (value - mean[index % c]) / deviation[index % c] }
    }

    /// Steps of the training, validation and test parts of a series of `steps`.
    static func parts(_ steps: Int) -> (train: Int, validation: Int, test: Int) {
        (steps * 7 / 10, steps - steps * 7 / 10 - steps * 2 / 10, steps * 2 / 10)
    }

    /// Whether each part of a series of `steps` holds a window (validation and test borrow their lookback from before).
    public static func holdsWindows(_ steps: Int, lookback: Int, horizon: Int) -> Bool {
        let (train, validation, test) = parts(steps)
        return train >= lookback + horizon && validation >= horizon && test >= horizon
    }

    /// The first steps of the windows of `split`: every window whose forecast steps lie in the split.
    public func starts(_ split: Split) -> Range<Int> {
        let (first, end): (Int, Int)
        switch split {
        case .train: (first, end) = (0, trainSteps)
        case .validation: (first, end) = (trainSteps - lookback, trainSteps + validationSteps)
        case .test: (first, end) = (trainSteps + validationSteps - lookback, trainSteps + validationSteps + testSteps)
        }
        return first..<max(first, end - lookback - horizon + 1)
    }

    /// The normalised window starting at step `start`: `lookback × channels` inputs and `horizon × channels` targets,
    /// row-major by step.
    public func window(at start: Int) -> (input: ArraySlice<Float>, target: ArraySlice<Float>) {
        let c = channels
        return (values[(start * c)..<((start + lookback) * c)], values[((start + lookback) * c)..<((start + lookback + horizon) * c)])
    }
}

/// Why windows cannot be cut from a series.
public enum SeriesWindowsError: Error, CustomStringConvertible, Equatable {
    case badLengths(lookback: Int, horizon: Int)
    case tooShort(steps: Int, lookback: Int, horizon: Int, needed: Int)

    public var description: String {
        switch self {
        case let .badLengths(lookback, horizon): return "--lookback (\(lookback)) and --horizon (\(horizon)) must be at least 1"
        case let .tooShort(steps, lookback, horizon, needed):
            return "the series has \(steps) steps: too few for a lookback of \(lookback) and a horizon of \(horizon) "
                + "(70% for training must hold one window and 10% and 20% for validation and test one horizon each: at least "
                + "\(needed) steps); use a shorter --lookback or --horizon"
        }
    }
}
