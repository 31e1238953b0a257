import Foundation
import TitansEval

/// What a cell of `titans reproduce` does with its model.
public enum ReproductionWorkload: Sendable {
    /// Trained on a mix of long-context tasks (lengths from half the training length to it, answer bytes scored), then
    /// scored by exact match on the evaluation tasks at every tested length.
    case tasks(training: [any LongContextTask], evaluation: [any LongContextTask])
    /// Trained on the training part of a text, then scored in bits per byte on its held-out part at every tested length
    /// that the held-out part holds.
    case language(ReproductionCorpus)
    /// Not trained: the speed of a training step and of a forward pass at each length, batch 1.
    case throughput(lengths: [Int])
    /// A forecaster trained on the series' training part, scored by MSE and MAE on its test part (Table 3).
    case forecast(ReproductionSeries, ForecastConfiguration)
    /// A classifier trained on the sequences' training part, scored by accuracy on their test part (Table 4).
    case classification(ReproductionSequences, ClassifierConfiguration)
}

/// Where a cell's model starts.
public indirect enum ReproductionStart: Sendable {
    case scratch
    /// Fine-tuned: the trained model of another cell with the same configuration and seed (as the paper fine-tunes on
    /// BABILong).
    case model(of: ReproductionCell)
}

/// The text of the language-modelling studies: a file's bytes, its last tenth held out.
public struct ReproductionCorpus: Sendable {
    public let data: ByteDataset
    /// The file's name, size and a hash of its bytes: a result is reused only with the same text.
    public let fingerprint: String

    public init(contentsOf url: URL) throws {
        data = try ByteDataset(contentsOf: url, validationFraction: 0.1, minimumLength: 4096)
        fingerprint = TitansTraining.fingerprint(name: url.lastPathComponent, bytes: data.bytes)
    }
}

/// One model of one study at one seed: trained (or timed) by its workload at the study's training length. Its key
/// names it in `results.json`.
///
/// ```swift
/// let cell = ReproductionStudy.needles.cells(at: .quick, corpus: nil)[0]
/// let result = try cell.run(scale: .quick) { step, total in print(step, total) }
/// print(result.metrics["s-niah-pk@256"] ?? 0)
/// ```
public struct ReproductionCell: Sendable {
    /// The training this cell is (`needles`, `language@512`, …): a cell trained once serves every study that names it.
    public var study: String
    /// The model's name in tables (`MAG`, `sliding window`, …) and on the command line (`mag`, `sliding-window`).
    public var label: String
    public var modelName: String
    /// The blocks of the cell's language model or backbone; `nil` for the linear forecaster (DLinear), which has none.
    public var configuration: ModelConfiguration?
    public var seed: UInt64
    public var workload: ReproductionWorkload
    /// Bytes per training sequence.
    public var trainingLength: Int
    /// The tested lengths as multiples of the training length (`nil`: the scale's).
    public var multiples: [Int]? = nil
    /// From scratch, or from another cell's trained model.
    public var start: ReproductionStart = .scratch

    public var key: String { "\(study)/\(modelName)/seed\(seed)" }

    /// What a result must have been measured with to be reused: the scale's settings (but its list of seeds: the
    /// cell's own seed is in its key, so a run with more seeds keeps those already done), for text the corpus, and the
    /// cell it starts from.
    public func settings(_ scale: ReproductionScale) -> String {
        var scale = scale
        scale.seeds = []
        var text = sortedJSONText(scale)
        switch workload {
        case .language(let corpus): text += " on " + corpus.fingerprint
        case .forecast(let series, _): text = sortedJSONText(scale.domains) + " on " + series.fingerprint
        case .classification(let sequences, _): text = sortedJSONText(scale.domains) + " on " + sequences.fingerprint
        case .tasks, .throughput: break
        }
        if case .model(let base) = start {
            // The batch and rate are named where they are not the scale's (results fine-tuned with those stay valid).
            let recipe = scale.fineTuning(for: configuration)
            text += " from " + base.settings(scale) + " as " + base.key + ", fine-tuned for \(recipe.steps) steps"
            if recipe.batchSize != scale.sequencesPerStep(ofLength: trainingLength) || recipe.learningRate != scale.learningRate {
                text += " of \(recipe.batchSize) at learning rate \(recipe.learningRate)"
            }
        }
        return text
    }

    /// The model the cell trains, as JSON: a result is reused only for the same model.
    public var modelJSON: String {
        switch workload {
        case .forecast(_, let configuration): return sortedJSONText(configuration)
        case .classification(_, let configuration): return sortedJSONText(configuration)
        case .tasks, .language, .throughput: return sortedJSONText(configuration)
        }
    }

    /// Training steps of the cell's own workload (one for a timed cell, which is not trained).
    func ownSteps(_ scale: ReproductionScale) -> Int {
        switch workload {
        case .tasks:
            if case .model = start { return scale.fineTuning(for: configuration).steps }
            return scale.steps
        case .language: return scale.languageSteps
        case .throughput: return 1
        case .forecast: return scale.domains.forecastSteps
        case .classification: return scale.domains.classificationSteps
        }
    }

    /// Training steps from scratch: the base cell's, then the cell's own.
    func stepsFromScratch(_ scale: ReproductionScale) -> Int {
        if case .model(let base) = start { return base.stepsFromScratch(scale) + ownSteps(scale) }
        return ownSteps(scale)
    }

    /// Training steps the cell takes when run with `models`: a base model saved there is read, not trained again.
    public func steps(_ scale: ReproductionScale, models: ReproductionModels?) -> Int {
        guard case .model(let base) = start else { return ownSteps(scale) }
        if let models, FileManager.default.fileExists(atPath: models.url(of: base).path) { return ownSteps(scale) }
        return base.steps(scale, models: models) + ownSteps(scale)
    }

    /// The tested lengths at `scale` (a forecaster's: its horizon; a classifier's: its sequences').
    public func lengths(_ scale: ReproductionScale) -> [Int] {
        switch workload {
        case .throughput(let lengths): return lengths
        case .forecast(_, let configuration): return [configuration.horizon]
        case .classification: return [trainingLength]
        case .tasks, .language: return (multiples ?? scale.lengthMultiples).map { $0 * trainingLength }
        }
    }

    /// The name of a metric: a task's accuracy, `bpb` or `training`/`forward` tokens/s, at a length.
    public static func metric(_ name: String, _ length: Int) -> String { "\(name)@\(length)" }

    /// Sequences per step: the scale's batch of 256-byte sequences, as bytes, in sequences of this length (equal
    /// training bytes at every length up to `batchSize` × 256); a fine-tuning's own batch; the domain studies' own.
    func batchSize(_ scale: ReproductionScale) -> Int {
        switch workload {
        case .forecast: return scale.domains.forecastBatchSize
        case .classification: return scale.domains.classificationBatchSize
        case .tasks, .language, .throughput:
            if case .model = start { return scale.fineTuning(for: configuration).batchSize }
            return scale.sequencesPerStep(ofLength: trainingLength)
        }
    }

    /// Trains the cell's model and scores it; `progress` sees each training step it takes (with the steps it will take,
    /// ``steps(_:models:)``). With `models`, a base model saved there is read instead of trained, and every model
    /// trained is saved there.
    public func run(scale: ReproductionScale, models: ReproductionModels? = nil,
                    progress: (Int, Int) -> Void = { _, _ in }) throws -> ReproductionResult {
        var result = try measure(scale: scale, models: models, progress: progress)
        result.finishedAt = Date().timeIntervalSince1970
        return result
    }

    /// The cell's result, timed but not yet stamped with its end.
    private func measure(scale: ReproductionScale, models: ReproductionModels?, progress: (Int, Int) -> Void) throws -> ReproductionResult {
        let began = Date()
        var result = ReproductionResult(study: study, model: label, seed: seed, scale: scale.name, settings: settings(scale),
                                        parameters: 0, configuration: modelJSON, trainingSeconds: 0, evaluationSeconds: 0,
                                        finalLoss: .nan, metrics: [:])
        var rng = RandomGenerator(seed: seed)
        switch workload {
        case .forecast(let series, let configuration):
            let model = ForecastModel(configuration, generator: &rng)
            let windows = try SeriesWindows(series.table, lookback: configuration.lookback, horizon: configuration.horizon)
            try measure(model, on: windows, scale: scale, models: models, into: &result, since: began, progress: progress) {
                let stride = scale.domains.testStride(windows: windows.starts(.test).count, channels: windows.channels)
                let score = ForecastEvaluation.score(of: model, on: windows, split: .test, stride: stride)
                return ["mse": score.meanSquaredError, "mae": score.meanAbsoluteError, "test-stride": Double(stride),
                        "test-windows": Double(score.windows)]
            }
            return result
        case .classification(let sequences, let configuration):
            let model = SequenceClassifier(configuration, generator: &rng)
            try measure(model, on: sequences.data, scale: scale, models: models, into: &result, since: began, progress: progress) {
                let score = ClassificationEvaluation.score(of: model, on: sequences.data.test, in: sequences.data)
                return ["accuracy": score.accuracy, "test-sequences": Double(score.count)]
            }
            return result
        case .tasks, .language, .throughput: break
        }
        guard let configuration else { preconditionFailure("ReproductionCell \(key): a language model needs its configuration") }
        result.parameters = ReproductionScale.parameterCount(configuration)
        if case .throughput(let lengths) = workload {  // timed, not trained: ModelThroughput builds its own model
            for length in lengths {
                let speed = ModelThroughput.measure(configuration, length: length)
                result.metrics[Self.metric("training", length)] = speed.training
                result.metrics[Self.metric("forward", length)] = speed.forward
            }
            result.evaluationSeconds = Date().timeIntervalSince(began)
            return result
        }
        let model = LanguageModel(configuration, generator: &rng)
        let total = steps(scale, models: models)
        _ = try train(model, scale: scale, models: models, into: &result) { progress($0, total) }
        result.trainingSeconds = Date().timeIntervalSince(began)
        guard result.divergedAtStep == nil else { return result }
        let trained = Date()
        switch workload {
        case .tasks(_, let evaluation):
            for task in evaluation {
                for length in lengths(scale) {
                    // The same examples for every model and seed.
                    let name = task.name.utf8.reduce(UInt64(0)) { $0 &* 31 &+ UInt64($1) }
                    var generator = RandomGenerator(seed: UInt64(length) &* 0x9E37_79B9 &+ name)
                    let examples = (0..<scale.evaluationExamples).map { _ in task.example(length: length, generator: &generator) }
                    let correct = TaskEvaluation.correct(of: model, on: examples).filter { $0 }.count
                    result.metrics[Self.metric(task.name, length)] = Double(correct) / Double(examples.count)
                }
            }
        case .language(let corpus):
            for length in lengths(scale) {
                let score = TextEvaluation.bitsPerByte(of: model, on: corpus.data, split: .validation, length: length,
                                                       limit: scale.evaluationBytes)
                guard score.bytes > 0 else { continue }
                if score.bitsPerByte.isFinite {
                    result.metrics[Self.metric("bpb", length)] = score.bitsPerByte
                } else {
                    result.nonFiniteMetrics.append(Self.metric("bpb", length))
                }
            }
        case .throughput, .forecast, .classification: break
        }
        result.evaluationSeconds = Date().timeIntervalSince(trained)
        return result
    }

    /// Trains a domain study's `model` on `source` (saving it in `models`), then scores it with `score`, into `result`.
    private func measure<Model: TrainableModel>(_ model: Model, on source: any BatchSource<Model.Batch>, scale: ReproductionScale,
                                                models: ReproductionModels?, into result: inout ReproductionResult, since began: Date,
                                                progress: (Int, Int) -> Void, score: () -> [String: Double]) throws {
        result.parameters = model.parameterCount
        let steps = ownSteps(scale)
        _ = try fit(model, on: source, scale: scale, taken: 0, into: &result) { progress($0, steps) }
        result.trainingSeconds = Date().timeIntervalSince(began)
        guard result.divergedAtStep == nil else { return }
        try models?.save(model, of: self)
        let trained = Date()
        result.metrics = score()
        result.evaluationSeconds = Date().timeIntervalSince(trained)
    }

    private func trainingConfiguration(_ scale: ReproductionScale) -> TrainingConfiguration {
        let steps = ownSteps(scale)
        let learningRate: Double
        switch (workload, start) {
        case (.forecast, _), (.classification, _): learningRate = scale.domains.learningRate
        case (_, .model): learningRate = scale.fineTuning(for: configuration).learningRate
        case (_, .scratch): learningRate = scale.learningRate
        }
        return TrainingConfiguration(steps: steps, batchSize: batchSize(scale), sequenceLength: trainingLength,
                                     learningRate: learningRate, seed: seed,
                                     evaluationInterval: steps, evaluationBatches: 1)
    }

    /// Training examples of `tasks`, `scale.examplesPerTask` of each, lengths from half the training length (or the
    /// task's least) to it.
    private func taskBatches(_ tasks: [any LongContextTask], scale: ReproductionScale) throws -> TaskBatches {
        var generator = RandomGenerator(seed: 0x7A5C &+ seed)
        var examples: [TaskExample] = []
        for task in tasks {
            let shortest = min(trainingLength, max(task.minimumLength, trainingLength / 2))
            for _ in 0..<scale.examplesPerTask {
                examples.append(task.example(length: shortest + generator.uniformIndex(trainingLength - shortest + 1), generator: &generator))
            }
        }
        return try TaskBatches(examples: generator.shuffled(examples), validationFraction: 0, sequenceLength: trainingLength)
    }

    /// Trains `model`, initialised from the cell's seed, into the cell's model: first into its base cell's (read from
    /// `models`, or trained again), then on its workload; saves every model it trains in `models`. Returns the steps it
    /// took; a divergence is at a step counted from scratch.
    private func train(_ model: LanguageModel, scale: ReproductionScale, models: ReproductionModels?,
                       into result: inout ReproductionResult, progress: (Int) -> Void) throws -> Int {
        var taken = 0
        if case .model(let base) = start, models?.load(base, into: model) != true {
            taken = try base.train(model, scale: scale, models: models, into: &result, progress: progress)
            guard result.divergedAtStep == nil else { return taken }
        }
        let source: any BatchSource<TrainingBatch>
        switch workload {
        case .tasks(let training, _): source = try taskBatches(training, scale: scale)
        case .language(let corpus): source = corpus.data
        case .throughput, .forecast, .classification: return taken
        }
        taken = try fit(model, on: source, scale: scale, taken: taken, into: &result, progress: progress)
        if result.divergedAtStep == nil { try models?.save(model, of: self) }
        return taken
    }

    /// Trains `model` on `source` for the cell's own steps, after `taken` steps of its base cell: the mean loss of the
    /// last steps into `result`, or the step (counted from scratch) at which it diverged. Returns the steps taken.
    private func fit<Model: TrainableModel>(_ model: Model, on source: any BatchSource<Model.Batch>, scale: ReproductionScale,
                                            taken: Int, into result: inout ReproductionResult, progress: (Int) -> Void) throws -> Int {
        let configuration = trainingConfiguration(scale)
        let trainer = Trainer(model: model, source: source, configuration: configuration)
        var losses: [Double] = []
        let before = stepsFromScratch(scale) - ownSteps(scale)
        while trainer.step < configuration.steps {
            do {
                losses.append(try trainer.trainStep().loss)
            } catch TrainingError.nonFinite(let step, _, _) {
                result.divergedAtStep = before + step
                return taken + step
            }
            progress(taken + trainer.step)
        }
        result.finalLoss = losses.suffix(20).reduce(0, +) / Double(max(1, min(20, losses.count)))
        return taken + configuration.steps
    }
}
