import TitansNN

/// A forecaster of multivariate series (paper §5.5, Table 3): each channel is read and forecast on its own with shared
/// weights, between reversible instance normalisation (RevIN: the window's own mean and deviation per channel are
/// taken out of the input and put back into the forecast).
///
/// What forecasts is a ``PatchForecaster`` (the blocks of any architecture over patches of the series, the neural
/// memory among them) or the ``LinearForecaster`` baseline (DLinear).
///
/// ```swift
/// let model = ForecastModel(ForecastConfiguration(channels: 2, lookback: 96, horizon: 24, backbone: nil), generator: &rng)
/// let forecast = model(history)   // [batch, 96, 2] → [batch, 24, 2]
/// ```
public final class ForecastModel: Module {
    public let configuration: ForecastConfiguration
    public let forecaster: any Forecaster

    override public var inlinedChildren: Set<String> { ["forecaster"] }

    public init(_ configuration: ForecastConfiguration, dtype: DType = .float32, generator: inout RandomGenerator) {
        if let problem = configuration.problem { preconditionFailure("ForecastModel: \(problem)") }
        self.configuration = configuration
        forecaster = configuration.backbone == nil
            ? LinearForecaster(configuration, dtype: dtype, generator: &generator)
            : PatchForecaster(configuration, dtype: dtype, generator: &generator)
    }

    /// The forecast `[batch, horizon, channels]` after `history` `[batch, lookback, channels]`: any number of channels,
    /// each forecast on its own (training takes one at a time, scoring the series' `configuration.channels`).
    public func callAsFunction(_ history: Tensor) -> Tensor {
        precondition(history.shape.count == 3 && history.shape[1] == configuration.lookback,
                     "ForecastModel: history must be [batch, \(configuration.lookback), channels], got \(history.shape)")
        let (b, l, c) = (history.shape[0], history.shape[1], history.shape[2])
        // RevIN (Kim et al. 2022), without its learned affine map.
        let mean = history.mean(axis: 1, keepDims: true)
        let centred = history - mean
        let deviation = (centred.squared().mean(axis: 1, keepDims: true) + 1e-5).sqrt()
        let series = (centred / deviation).permute([0, 2, 1]).reshape([b * c, l])
        let forecast = forecaster.forecast(series).reshape([b, c, configuration.horizon]).permute([0, 2, 1])
        return forecast * deviation + mean
    }

    /// Mean squared error of the forecast after `history` against `target` `[batch, horizon, channels]`.
    public func loss(history: Tensor, target: Tensor) -> Tensor {
        (self(history) - target).squared().mean()
    }
}

/// What maps each channel's normalised lookback `[series, lookback]` to its forecast `[series, horizon]`.
public protocol Forecaster: Module {
    func forecast(_ series: Tensor) -> Tensor
}

/// The series cut into patches of `patchLength` steps, each a token (a linear embedding plus a learned position),
/// mixed by ``Block``s of the backbone's architecture, normalised, and all tokens flattened into a linear head to the
/// horizon (PatchTST's layout, with this package's mixers).
public final class PatchForecaster: Module, Forecaster {
    public let embedding: Linear
    public let position: Tensor
    public let blocks: [Block]
    public let finalNorm: RMSNorm
    public let head: Linear
    let patchLength: Int

    public init(_ configuration: ForecastConfiguration, dtype: DType, generator: inout RandomGenerator) {
        guard let backbone = configuration.backbone else { preconditionFailure("PatchForecaster: no backbone") }
        patchLength = configuration.patchLength
        embedding = Linear(patchLength, backbone.width, dtype: dtype, generator: &generator)
        position = Tensor.randomNormal([configuration.patches, backbone.width], standardDeviation: 0.02, dtype: dtype,
                                       generator: &generator).requiringGrad()
        blocks = (0..<backbone.layers).map { Block(backbone, index: $0, dtype: dtype, generator: &generator) }
        finalNorm = RMSNorm(backbone.width, dtype: dtype)
        head = Linear(configuration.patches * backbone.width, configuration.horizon, dtype: dtype, generator: &generator)
    }

    public func forecast(_ series: Tensor) -> Tensor {
        let (n, l) = (series.shape[0], series.shape[1])
        var h = embedding(series.reshape([n, l / patchLength, patchLength])) + position
        for block in blocks { h = block(h, state: nil).0 }
        return head(finalNorm(h).reshape([n, h.shape[1] * h.shape[2]]))
    }
}

/// DLinear (Zeng et al. 2023), the linear baseline of the forecasting literature: the series' trend, a moving average
/// (its ends padded by repeating the first and last steps), and the remainder are each mapped to the horizon by a
/// linear layer, and the two summed.
public final class LinearForecaster: Module, Forecaster {
    public let seasonal: Linear
    public let trend: Linear
    /// The moving average as a matrix, transposed, `[lookback, lookback]` row-major: `trend = series · averaging`.
    /// Fixed, not learned (so not a tensor, which a module would count as a parameter).
    let averaging: [Double]

    public init(_ configuration: ForecastConfiguration, dtype: DType, generator: inout RandomGenerator) {
        seasonal = Linear(configuration.lookback, configuration.horizon, dtype: dtype, generator: &generator)
        trend = Linear(configuration.lookback, configuration.horizon, dtype: dtype, generator: &generator)
        let l = configuration.lookback
        let rows = Self.movingAverage(length: l, window: configuration.movingAverage)
        averaging = (0..<(l * l)).map { rows[($0 % l) * l + $0 / l] }
    }

    /// Row `t` of the moving average over a series of `length` steps: the weight of each step in the mean of the
    /// `window` steps centred on `t`, with steps before the start counted as the first and those past the end as the last.
    static func movingAverage(length: Int, window: Int) -> [Double] {
        var matrix = [Double](repeating: 0, count: length * length)
        let half = window / 2
        for t in 0..<length {
            for offset in -half...half { matrix[t * length + min(max(t + offset, 0), length - 1)] += 1 / Double(window) }
        }
        return matrix
    }

    public func forecast(_ series: Tensor) -> Tensor {
        let l = series.shape[1]
        let trendPart = series.matmul(Tensor(shape: [l, l], averaging, dtype: series.dtype))
        return seasonal(series - trendPart) + trend(trendPart)
    }
}
