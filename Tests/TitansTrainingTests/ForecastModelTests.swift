import Foundation
import Testing
import TitansEval
@testable import TitansTraining

struct ForecastModelTests {
    static let lmm = ModelConfiguration(architecture: .lmm, vocabularySize: 1, width: 16, layers: 1, heads: 2)

    /// DLinear's trend is the moving average with repeated ends: computed here by padding the series and averaging
    /// each window, against the model's matrix form.
    @Test func linearForecasterMatchesAPaddedMovingAverage() throws {
        var rng = RandomGenerator(seed: 1)
        let configuration = ForecastConfiguration(channels: 1, lookback: 10, horizon: 3, backbone: nil, movingAverage: 5)
        let linear = LinearForecaster(configuration, dtype: .float64, generator: &rng)
        let series = (0..<10).map { _ in rng.nextNormal() }
        let padded: [Double] = [series[0], series[0]] + series + [series[9], series[9]]
        let trend: [Double] = (0..<10).map { t in padded[t..<(t + 5)].reduce(0, +) / 5 }
        let seasonal: [Double] = zip(series, trend).map { $0 - $1 }
        let ws = linear.seasonal.weight.toArray(), wt = linear.trend.weight.toArray()
        let bs = try #require(linear.seasonal.bias).toArray(), bt = try #require(linear.trend.bias).toArray()
        var expected = [Double](repeating: 0, count: 3)
        for h in 0..<3 {
            expected[h] = bs[h] + bt[h]
            for t in 0..<10 { expected[h] += seasonal[t] * ws[t * 3 + h] + trend[t] * wt[t * 3 + h] }
        }
        let got = linear.forecast(Tensor(shape: [1, 10], series, dtype: .float64)).toArray()
        #expect(zip(got, expected).allSatisfy { abs($0 - $1) < 1e-12 }, "\(got) against \(expected)")
    }

    /// Reversible instance normalisation: shifting a channel's history shifts its forecast alike, and scaling it scales
    /// the forecast (up to the 1e-5 added to the variance, which scaling does not scale: a relative 1e-4 here), for
    /// both kinds of forecaster.
    @Test func forecastsFollowTheScaleAndLevelOfTheirHistory() throws {
        for backbone in [nil, Self.lmm] {
            var rng = RandomGenerator(seed: 2)
            let model = ForecastModel(ForecastConfiguration(channels: 2, lookback: 16, horizon: 4, patchLength: 4, backbone: backbone),
                                      dtype: .float64, generator: &rng)
            let history = Tensor.randomNormal([3, 16, 2], dtype: .float64, generator: &rng)
            #expect(model(history).shape == [3, 4, 2])
            let name = String(describing: backbone?.architecture)
            for (scale, shift, tolerance) in [([1.0, 1.0], [-7.0, 100.0], 1e-9), ([3.0, 0.5], [0.0, 0.0], 1e-4)] {
                let a = Tensor(shape: [1, 1, 2], scale, dtype: .float64), b = Tensor(shape: [1, 1, 2], shift, dtype: .float64)
                let moved = model(history * a + b).toArray(), expected = (model(history) * a + b).toArray()
                #expect(zip(moved, expected).allSatisfy { abs($0 - $1) < tolerance * max(1, abs($1)) }, "\(name), scale \(scale)")
            }
        }
    }

    /// The loss's gradient with respect to the history (through the normalisation) and to the forecaster's own
    /// parameters (DLinear's layers; the patch forecaster's embedding, positions, final norm and head: its blocks'
    /// gradients have their own checks), against central differences in float64.
    @Test func gradientsMatchFiniteDifferences() throws {
        for backbone in [nil, Self.lmm] {
            var rng = RandomGenerator(seed: 3)
            let model = ForecastModel(ForecastConfiguration(channels: 2, lookback: 8, horizon: 3, patchLength: 4, backbone: backbone,
                                                            movingAverage: 3), dtype: .float64, generator: &rng)
            let history = Tensor.randomNormal([2, 8, 2], dtype: .float64, generator: &rng)
            let target = Tensor.randomNormal([2, 3, 2], dtype: .float64, generator: &rng)
            let inputs = GradientCheck.first(inputs: [history]) { model.loss(history: $0[0], target: target) }
            #expect(inputs.passed, "\(inputs)")
            let own = model.namedParameters().filter { !$0.name.hasPrefix("blocks.") }.map(\.tensor)
            #expect(own.count == (backbone == nil ? 4 : 6))  // weights and biases; the patch forecaster's positions and norm
            let parameters = GradientCheck.first(parameters: own) { model.loss(history: history, target: target) }
            #expect(parameters.passed, "\(parameters)")
        }
    }

    /// On a noisy daily cycle, DLinear and the LMM patch forecaster trained briefly forecast the test part far better
    /// than the training mean does (a normalised MSE of 1 is what forecasting the mean scores).
    @Test func forecastersLearnACycle() throws {
        var rng = RandomGenerator(seed: 4)
        let rows = (0..<1200).map { t in
            let angle = 2 * Double.pi * Double(t) / 24
            let a: Double = 10 + 3 * sin(angle) + 0.1 * rng.nextNormal(), b: Double = 2 * cos(angle) + 0.1 * rng.nextNormal()
            return "\(a),\(b)"
        }
        let table = try SeriesTable.parse(Data((["a,b"] + rows).joined(separator: "\n").utf8), path: "cycle.csv")
        let windows = try SeriesWindows(table, lookback: 48, horizon: 24)
        for backbone in [nil, Self.lmm] {
            var init_ = RandomGenerator(seed: 5)
            let model = ForecastModel(ForecastConfiguration(channels: 2, lookback: 48, horizon: 24, patchLength: 8, backbone: backbone),
                                      generator: &init_)
            let trainer = Trainer(model: model, source: windows,
                                  configuration: TrainingConfiguration(steps: 150, batchSize: 16, sequenceLength: 48, learningRate: 3e-3))
            for _ in 0..<150 { _ = try trainer.trainStep() }
            let score = ForecastEvaluation.score(of: model, on: windows, split: .test, stride: 4)
            #expect(score.meanSquaredError < 0.1 && score.meanAbsoluteError < 0.3 && score.windows > 10,
                    "\(String(describing: backbone?.architecture)): \(score)")
        }
    }
}
