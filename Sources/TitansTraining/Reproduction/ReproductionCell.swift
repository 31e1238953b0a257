import Foundation
import TitansEval

/// One model of one study at one seed: trained on a mix of long-context tasks at the study's training length, then
/// scored on its evaluation tasks at every tested length. Its key names it in `results.json`.
///
/// ```swift
/// let cell = ReproductionStudy.needles.cells(at: .quick)[0]
/// let result = try cell.run(scale: .quick) { step, total in print(step, total) }
/// print(result.metrics["s-niah-pk@256"] ?? 0)
/// ```
public struct ReproductionCell: Sendable {
    public var study: String
    /// The model's name in tables (`MAG`, `sliding window`, …) and on the command line (`mag`, `sliding-window`).
    public var label: String
    public var modelName: String
    public var configuration: ModelConfiguration
    public var seed: UInt64
    /// The tasks mixed for training and those scored.
    public var trainingTasks: [any LongContextTask]
    public var evaluationTasks: [any LongContextTask]
    /// Bytes per training sequence; examples are drawn with lengths between half of it (or the task's least) and it.
    public var trainingLength: Int

    public var key: String { "\(study)/\(modelName)/seed\(seed)" }

    /// The tested lengths at `scale`.
    public func lengths(_ scale: ReproductionScale) -> [Int] { scale.lengthMultiples.map { $0 * trainingLength } }

    /// The name of a metric: a task's accuracy at a length.
    public static func metric(_ task: String, _ length: Int) -> String { "\(task)@\(length)" }

    /// Trains the cell's model and scores it; `progress` sees each training step.
    public func run(scale: ReproductionScale, progress: (Int, Int) -> Void = { _, _ in }) throws -> ReproductionResult {
        let start = Date()
        var generator = RandomGenerator(seed: 0x7A5C &+ seed)
        var examples: [TaskExample] = []
        for task in trainingTasks {
            let shortest = min(trainingLength, max(task.minimumLength, trainingLength / 2))
            for _ in 0..<scale.examplesPerTask {
                examples.append(task.example(length: shortest + generator.uniformIndex(trainingLength - shortest + 1), generator: &generator))
            }
        }
        let source = try TaskBatches(examples: generator.shuffled(examples), validationFraction: 0, sequenceLength: trainingLength)
        var rng = RandomGenerator(seed: seed)
        let model = LanguageModel(configuration, generator: &rng)
        let trainer = Trainer(model: model, source: source, configuration: TrainingConfiguration(
            steps: scale.steps, batchSize: scale.batchSize, sequenceLength: trainingLength, learningRate: scale.learningRate,
            seed: seed, evaluationInterval: scale.steps, evaluationBatches: 1))
        var losses: [Double] = []
        let parameters = model.parameterCount, settings = sortedJSONText(scale), configurationText = sortedJSONText(configuration)
        while trainer.step < scale.steps {
            do {
                losses.append(try trainer.trainStep().loss)
            } catch TrainingError.nonFinite(let step, _, _) {
                // Diverged: reported as such, with no accuracy (every model goes in the table, including those that fail).
                return ReproductionResult(study: study, model: label, seed: seed, scale: scale.name, settings: settings,
                                          parameters: parameters, configuration: configurationText,
                                          trainingSeconds: Date().timeIntervalSince(start), evaluationSeconds: 0, finalLoss: .nan,
                                          metrics: [:], divergedAtStep: step)
            }
            progress(trainer.step, scale.steps)
        }
        let trained = Date()
        var metrics: [String: Double] = [:]
        for task in evaluationTasks {
            for length in lengths(scale) {
                // The same examples for every model and seed.
                let name = task.name.utf8.reduce(UInt64(0)) { $0 &* 31 &+ UInt64($1) }
                var generator = RandomGenerator(seed: UInt64(length) &* 0x9E37_79B9 &+ name)
                let examples = (0..<scale.evaluationExamples).map { _ in task.example(length: length, generator: &generator) }
                let correct = TaskEvaluation.correct(of: model, on: examples).filter { $0 }.count
                metrics[Self.metric(task.name, length)] = Double(correct) / Double(examples.count)
            }
        }
        return ReproductionResult(study: study, model: label, seed: seed, scale: scale.name, settings: settings,
                                  parameters: parameters,
                                  configuration: configurationText, trainingSeconds: trained.timeIntervalSince(start),
                                  evaluationSeconds: Date().timeIntervalSince(trained),
                                  finalLoss: losses.suffix(20).reduce(0, +) / Double(max(1, min(20, losses.count))), metrics: metrics)
    }
}
