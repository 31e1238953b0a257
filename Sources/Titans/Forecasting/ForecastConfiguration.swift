/// Everything that defines a ``ForecastModel``: the series' shape, the lengths, and what forecasts.
/// `Codable`: checkpoints keep it, so a model can be rebuilt from the file alone.
///
/// ```swift
/// let linear = ForecastConfiguration(channels: 7, lookback: 96, horizon: 192, backbone: nil)   // DLinear
/// let titans = ForecastConfiguration(channels: 7, lookback: 96, horizon: 192,
///                                    backbone: ModelConfiguration(architecture: .lmm, width: 64))
/// ```
public struct ForecastConfiguration: Codable, Equatable, Sendable {
    /// Columns of the series the model is scored on (each is forecast on its own, with shared weights).
    public var channels: Int
    /// Steps read.
    public var lookback: Int
    /// Steps forecast.
    public var horizon: Int
    /// Steps per patch, the backbone's token; `lookback` must be a multiple of it.
    public var patchLength: Int
    /// The blocks that mix the patches (any architecture of this package); `nil`: the linear baseline, DLinear (a
    /// moving-average trend and the remainder, each mapped to the horizon by a linear layer).
    public var backbone: ModelConfiguration?
    /// DLinear's moving-average window (odd).
    public var movingAverage: Int

    public init(channels: Int, lookback: Int, horizon: Int, patchLength: Int = 8, backbone: ModelConfiguration?,
                movingAverage: Int = 25) {
        (self.channels, self.lookback, self.horizon, self.patchLength) = (channels, lookback, horizon, patchLength)
        (self.backbone, self.movingAverage) = (backbone, movingAverage)
    }

    /// Patches per window.
    public var patches: Int { lookback / max(1, patchLength) }

    /// Why this configuration cannot build a model, or `nil`.
    public var problem: String? {
        if channels < 1 || lookback < 1 || horizon < 1 { return "channels, lookback and horizon must be positive" }
        if let backbone {
            if patchLength < 1 || lookback % patchLength != 0 {
                return "the lookback (\(lookback)) must be a multiple of the patch length (\(patchLength))"
            }
            return backbone.problem
        }
        if movingAverage < 1 || movingAverage % 2 == 0 { return "the moving average's window (\(movingAverage)) must be odd" }
        return nil
    }
}
