import TitansTensor

/// A batch of forecasting windows: histories `[batch, lookback, channels]` and what followed them
/// `[batch, horizon, channels]`, normalised.
public struct ForecastBatch {
    public var history: Tensor
    public var target: Tensor

    public init(history: Tensor, target: Tensor) {
        self.history = history
        self.target = target
    }
}

extension SeriesWindows {
    /// The windows starting at `starts`, as one batch.
    public func batch(_ starts: [Int]) -> ForecastBatch {
        var history: [Float] = [], target: [Float] = []
        history.reserveCapacity(starts.count * lookback * channels)
        target.reserveCapacity(starts.count * horizon * channels)
        for start in starts {
            let window = window(at: start)
            history += window.input
            target += window.target
        }
        return ForecastBatch(history: Tensor(shape: [starts.count, lookback, channels], history),
                             target: Tensor(shape: [starts.count, horizon, channels], target))
    }

    /// Windows of one column each, `[pairs, lookback, 1]` and `[pairs, horizon, 1]`: a channel-independent model
    /// learns from any column's window alike, so a step's cost does not grow with the number of columns.
    public func batch(_ pairs: [(start: Int, column: Int)]) -> ForecastBatch {
        let c = channels
        var history: [Float] = [], target: [Float] = []
        history.reserveCapacity(pairs.count * lookback)
        target.reserveCapacity(pairs.count * horizon)
        for (start, column) in pairs {
            let window = window(at: start)
            history += stride(from: window.input.startIndex + column, to: window.input.endIndex, by: c).map { window.input[$0] }
            target += stride(from: window.target.startIndex + column, to: window.target.endIndex, by: c).map { window.target[$0] }
        }
        return ForecastBatch(history: Tensor(shape: [pairs.count, lookback, 1], history),
                             target: Tensor(shape: [pairs.count, horizon, 1], target))
    }

    /// `count` starts of `split` spread evenly over it, first and last included (every start when there are fewer).
    public func evenStarts(_ split: Split, count: Int) -> [Int] {
        let all = starts(split)
        guard count < all.count else { return Array(all) }
        guard count > 1 else { return [all.lowerBound] }
        return (0..<count).map { all.lowerBound + $0 * (all.count - 1) / (count - 1) }
    }
}
