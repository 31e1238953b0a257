import ArgumentParser
import Foundation
import TitansEval
import TitansTraining

/// `titans forecast train|eval`: multivariate forecasting (paper Table 3) on any CSV file.
struct ForecastCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "forecast",
        abstract: "Forecast multivariate time series from a CSV file (the paper's Table 3): train a model per horizon, score checkpoints.",
        discussion: "The file has a header row of column names and one row per step, oldest first (`bash scripts/fetch-series` "
            + "writes four real ones to data/series). The steps are split in time, 70% training, 10% validation, 20% test; "
            + "every column is normalised by its training part's mean and deviation, and MSE and MAE are reported on the "
            + "normalised values, as the forecasting literature does. Missing values (empty, NA, NaN, null, ?) take the value "
            + "before them.",
        subcommands: [ForecastTrain.self, ForecastEval.self])
}

/// The data flags of both subcommands.
struct SeriesOptions: ParsableArguments {
    @Option(help: "The CSV file.") var data: String
    @Option(help: "Columns to read, comma-separated (default: every numeric column; `forecast eval`: the checkpoint's).")
    var columns: String?

    /// The table, with the columns given or `fallback`.
    func table(fallback: [String]? = nil) throws -> SeriesTable {
        let names = columns.map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } } ?? fallback
        let table = try SeriesTable.read(URL(fileURLWithPath: data), columns: names)
        var notes: [String] = []
        if !table.skipped.isEmpty { notes.append("left out (not numbers): \(table.skipped.joined(separator: ", "))") }
        if table.filled > 0 { notes.append("\(table.filled) missing values took the value before them") }
        print("\(data): \(table.steps) steps × \(table.columns.count) columns" + (notes.isEmpty ? "" : "; " + notes.joined(separator: "; ")))
        return table
    }
}

struct ForecastTrain: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a forecaster for each horizon and score it on the test part.",
        discussion: "Each channel is read and forecast on its own with shared weights, between reversible instance "
            + "normalisation. --architecture linear is the DLinear baseline; any other architecture (lmm, mac, mag, mal, "
            + "sliding-window, the recurrent baselines) mixes patches of --patch steps with its blocks. Writes "
            + "OUTPUT/horizon-H/checkpoint.safetensors per horizon and OUTPUT/scores.md.")

    @OptionGroup var series: SeriesOptions
    @Option(help: "Steps read (default 96).") var lookback = 96
    @Option(help: "Steps forecast, comma-separated: one model each (default 96,192,336,720).") var horizon = "96,192,336,720"
    @Option(help: "Steps per patch, the backbone's token; divides the lookback (default 8).") var patch = 8
    @OptionGroup var model: ModelOptions
    @Option(help: "Optimiser steps per model (default 1000).") var steps = 1000
    @Option(help: "Windows per step (default 32).") var batchSize = 32
    @Option(help: "Peak learning rate (default 1e-3).") var learningRate = 1e-3
    @Option(help: "Seed of the initialisation and the batches (default 0).") var seed: UInt64 = 0
    @Option(help: "Score every N-th test window (default 1: all, as the literature does).") var testStride = 1
    @Option(help: "Folder for the checkpoints and scores.") var output = "titans-forecast"

    @OptionGroup var computeDevice: DeviceOption

    func run() throws {
        try computeDevice.apply()
        let horizons = try horizon.split(separator: ",").map { text -> Int in
            guard let h = Int(text.trimmingCharacters(in: .whitespaces)), h >= 1 else {
                throw ValidationError("--horizon takes positive step counts, comma-separated, e.g. 96,192")
            }
            return h
        }
        guard !horizons.isEmpty else { throw ValidationError("--horizon needs at least one step count") }
        guard steps >= 1, batchSize >= 1, testStride >= 1 else { throw ValidationError("--steps, --batch-size and --test-stride must be at least 1") }
        let table = try series.table()
        let backbone = try backbone()
        let folder = URL(fileURLWithPath: output)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        var rows: [[String]] = []
        for h in horizons {
            let windows = try SeriesWindows(table, lookback: lookback, horizon: h)
            let configuration = ForecastConfiguration(channels: table.columns.count, lookback: lookback, horizon: h,
                                                      patchLength: patch, backbone: backbone)
            if let problem = configuration.problem { throw ValidationError(problem) }
            var generator = RandomGenerator(seed: seed)
            let forecaster = ForecastModel(configuration, generator: &generator)
            let trainer = Trainer(model: forecaster, source: windows,
                                  configuration: TrainingConfiguration(steps: steps, batchSize: batchSize, sequenceLength: lookback,
                                                                       learningRate: learningRate, seed: seed))
            print("horizon \(h): \(forecaster.parameterCount) parameters, \(windows.starts(.train).count) training windows")
            let seconds = try trainShowingProgress(trainer, label: "H=\(h)", lossName: "mse")
            let validation = ForecastEvaluation.score(of: forecaster, on: windows, split: .validation, stride: testStride)
            let test = ForecastEvaluation.score(of: forecaster, on: windows, split: .test, stride: testStride)
            let place = folder.appendingPathComponent("horizon-\(h)")
            try FileManager.default.createDirectory(at: place, withIntermediateDirectories: true)
            try trainer.checkpoint(metadata: ["columns": table.columns.joined(separator: ","), "data": series.data])
                .save(to: place.appendingPathComponent("checkpoint.safetensors"))
            print(String(format: "horizon %d: validation MSE %.4f MAE %.4f; test MSE %.4f MAE %.4f (%d windows); %.0f s",
                         h, validation.meanSquaredError, validation.meanAbsoluteError, test.meanSquaredError,
                         test.meanAbsoluteError, test.windows, seconds))
            rows.append([String(h), String(format: "%.4f", test.meanSquaredError), String(format: "%.4f", test.meanAbsoluteError),
                         String(test.windows), String(forecaster.parameterCount), String(format: "%.0f", seconds)])
        }
        let name = model.architecture ?? ModelOptions.defaults.architecture.commandLineName
        let text = "# \(name) on \(series.data)\n\nLookback \(lookback), \(table.columns.count) columns, \(steps) steps of "
            + "\(batchSize) windows; MSE and MAE on the normalised test part.\n\n"
            + MarkdownTable(headers: ["horizon", "MSE", "MAE", "test windows", "parameters", "training s"], rows: rows).render()
        try Data(text.utf8).write(to: folder.appendingPathComponent("scores.md"), options: .atomic)
        print("Wrote \(folder.appendingPathComponent("scores.md").path)")
    }

    /// The blocks over patches, or `nil` for the linear baseline.
    func backbone() throws -> ModelConfiguration? {
        if model.architecture == "linear" {
            var others = model
            others.architecture = nil
            guard !others.anyGiven else { throw ValidationError("--architecture linear (DLinear) has no blocks; drop the other model flags") }
            return nil
        }
        var configuration = try model.smallConfiguration()
        configuration.vocabularySize = 1
        return configuration
    }
}

struct ForecastEval: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval", abstract: "Score a forecasting checkpoint: MSE and MAE on a part of the data.")

    @Option(help: "A checkpoint written by `titans forecast train`.") var checkpoint: String
    @OptionGroup var series: SeriesOptions
    @Option(help: "The part scored: train, validation or test (default test).") var split = "test"
    @Option(help: "Score every N-th window (default 1: all).") var stride = 1

    @OptionGroup var computeDevice: DeviceOption

    func run() throws {
        try computeDevice.apply()
        guard let part = SeriesWindows.Split(rawValue: split) else { throw ValidationError("--split is train, validation or test") }
        guard stride >= 1 else { throw ValidationError("--stride must be at least 1") }
        let saved = try loadCheckpoint(checkpoint)
        guard let configuration = try? JSONDecoder().decode(ForecastConfiguration.self, from: Data(saved.config.utf8)),
              configuration.problem == nil else {
            throw CommandError("\(checkpoint) is not a forecasting checkpoint; `titans forecast train` writes them (language models are scored by `titans eval`)")
        }
        let table = try series.table(fallback: saved.metadata["columns"].map { $0.split(separator: ",").map(String.init) })
        guard table.columns.count == configuration.channels else {
            throw CommandError("the checkpoint forecasts \(configuration.channels) columns and \(series.data) gives \(table.columns.count); choose them with --columns")
        }
        var generator = RandomGenerator(seed: 0)
        let model = ForecastModel(configuration, generator: &generator)
        try saved.restore(into: model.namedParameters(), optimizer: nil, expectedConfig: model.configurationJSON)
        let windows = try SeriesWindows(table, lookback: configuration.lookback, horizon: configuration.horizon)
        let score = ForecastEvaluation.score(of: model, on: windows, split: part, stride: stride)
        print(String(format: "%@ part, horizon %d: MSE %.4f, MAE %.4f over %d windows", split, configuration.horizon,
                     score.meanSquaredError, score.meanAbsoluteError, score.windows))
    }
}
