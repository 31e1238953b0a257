import Titans
import TitansData

/// Forecasting scores as the literature reports them (paper Table 3): mean squared and mean absolute error of the
/// forecast against what followed, on the normalised values (each column by its training part's mean and deviation),
/// averaged over every step, column and window scored.
///
/// ```swift
/// let score = ForecastEvaluation.score(of: model, on: windows, split: .test)
/// print(score.meanSquaredError, score.meanAbsoluteError, score.windows)
/// ```
public enum ForecastEvaluation {
    public struct Score: Sendable, Equatable {
        public var meanSquaredError: Double
        public var meanAbsoluteError: Double
        public var windows: Int
    }

    /// Scores `model` on the windows of `split`, every `stride`-th one from the first (stride 1: all of them, as the
    /// literature does), `batchSize` at a time.
    public static func score(of model: ForecastModel, on windows: SeriesWindows, split: SeriesWindows.Split, stride: Int = 1,
                             batchSize: Int = 64) -> Score {
        let starts = Array(Swift.stride(from: windows.starts(split).lowerBound, to: windows.starts(split).upperBound, by: max(1, stride)))
        var squared = 0.0, absolute = 0.0, count = 0
        withoutGradients {
            for first in Swift.stride(from: 0, to: starts.count, by: max(1, batchSize)) {
                let batch = windows.batch(Array(starts[first..<min(starts.count, first + batchSize)]))
                let forecast = model(batch.history).toArray(), target = batch.target.toArray()
                for (f, t) in zip(forecast, target) {
                    squared += (f - t) * (f - t)
                    absolute += abs(f - t)
                }
                count += target.count
            }
        }
        return Score(meanSquaredError: squared / Double(max(1, count)), meanAbsoluteError: absolute / Double(max(1, count)),
                     windows: starts.count)
    }
}
