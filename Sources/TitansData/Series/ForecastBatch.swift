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

    /// `count` starts of `split` spread evenly over it, first and last included (every start when there are fewer).
    public func evenStarts(_ split: Split, count: Int) -> [Int] {
        let all = starts(split)
        guard count < all.count else { return Array(all) }
        guard count > 1 else { return [all.lowerBound] }
        return (0..<count).map { all.lowerBound + $0 * (all.count - 1) / (count - 1) }
    }
}
