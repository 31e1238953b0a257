import Foundation

/// Trains any ``TrainableModel`` (a `LanguageModel` on bytes or the recall task, or a model of another task) on a
/// ``BatchSource`` of its batches: AdamW with decoupled weight decay, linear warm-up then cosine decay, global-norm
/// clipping, gradient accumulation, validation, and checkpoints that resume exactly (the parameters, the optimiser's
/// moments, the step and the data generator's state are all saved).
///
/// ```swift
/// let trainer = Trainer(model: LanguageModel(.standard(.mag), generator: &rng), source: dataset,
///                       configuration: TrainingConfiguration(steps: 1000, batchSize: 8))
/// let report = try trainer.trainStep()   // loss, gradient norm, learning rate of step 1
/// ```
public final class Trainer<Model: TrainableModel> {
    public let model: Model
    public let configuration: TrainingConfiguration
    public let optimizer: AdamW
    public let schedule: LearningRateSchedule
    /// Optimiser steps taken so far.
    public private(set) var step = 0
    /// The generator training batches are drawn from.
    public private(set) var generator: RandomGenerator
    public let source: any BatchSource<Model.Batch>
    /// The processes training this model together (``join(_:)``); a single process by default.
    public private(set) var group: any ProcessGroup = SingleProcess()

    public init(model: Model, source: any BatchSource<Model.Batch>, configuration: TrainingConfiguration) {
        self.model = model
        self.source = source
        self.configuration = configuration
        optimizer = AdamW(model.namedParameters(), learningRate: configuration.learningRate, weightDecay: configuration.weightDecay)
        schedule = LearningRateSchedule(peak: configuration.learningRate, warmupSteps: configuration.warmupSteps,
                                        totalSteps: configuration.steps, minimum: configuration.minimumLearningRate)
        generator = RandomGenerator(seed: configuration.seed)
    }

    /// Trains data-parallel in `group`: every rank draws the same batches (the same seed), computes the gradients of its
    /// own slice of each (``ProcessGroup``) and takes the step of their sum, so `--batch-size` stays the global batch.
    /// Every rank must start from the same parameters (the same seed or checkpoint). Refuses a batch size the ranks
    /// cannot share equally.
    public func join(_ group: any ProcessGroup) throws {
        if group.size > 1 {
            guard configuration.batchSize % group.size == 0 else {
                throw DistributedError.batchNotDivisible(batchSize: configuration.batchSize, ranks: group.size)
            }
            var probe = generator
            let batch = source.trainingBatch(size: configuration.batchSize, length: configuration.sequenceLength, generator: &probe)
            guard model.canShare(batch, in: group) else { throw DistributedError.modelCannotSplit(ranks: group.size) }
        }
        self.group = group
    }

    /// One optimiser step over `accumulation` micro-batches (in a group: this rank's slice of each, the gradients summed
    /// over the ranks). A non-finite loss or gradient norm throws before any parameter changes, so the model (and the
    /// last checkpoint) stay good; in a group every rank sees the same loss and norm, so all throw together.
    @discardableResult
    public func trainStep() throws -> StepReport {
        let c = configuration
        optimizer.zeroGradients()
        var total = 0.0, nonFinite: Double? = nil
        for _ in 0..<c.accumulation {
            let batch = source.trainingBatch(size: c.batchSize, length: c.sequenceLength, generator: &generator)
            guard let share = model.share(of: batch, in: group) else { continue }  // (`join` makes every rank have one)
            let value = model.accumulateGradients(on: share.batch, scale: share.weight / Double(c.accumulation))
            guard value.isFinite else {
                nonFinite = value
                break
            }
            total += share.weight * value / Double(c.accumulation)
        }
        let parameters = model.parameters()
        total = sumOverRanks(gradientsOf: parameters, loss: nonFinite ?? total, in: group)
        guard total.isFinite else {
            optimizer.zeroGradients()
            throw TrainingError.nonFinite(step: step + 1, what: "loss", value: nonFinite ?? total)
        }
        let norm = clipGradientNorm(parameters, maxNorm: c.gradientClip)
        guard norm.isFinite else {
            optimizer.zeroGradients()
            throw TrainingError.nonFinite(step: step + 1, what: "gradient norm", value: norm)
        }
        step += 1
        let rate = schedule(step)
        optimizer.step(learningRate: rate)
        optimizer.zeroGradients()
        return StepReport(step: step, loss: total, gradientNorm: norm, learningRate: rate,
                          tokens: c.accumulation * c.batchSize * c.sequenceLength)
    }

    /// Mean loss (nats per scored token) over the fixed validation batches; `nil` when there are none. In a group each
    /// rank scores its slice of every batch and the weighted losses are summed.
    public func validationLoss() -> Double? {
        let batches = source.validationBatches(size: configuration.batchSize, length: configuration.sequenceLength,
                                               limit: configuration.evaluationBatches)
        guard !batches.isEmpty else { return nil }
        let losses = batches.map { batch in
            model.share(of: batch, in: group).map { $0.weight * model.evaluationLoss(on: $0.batch) } ?? 0
        }
        return group.sum([losses.reduce(0, +) / Double(batches.count)])[0]
    }

    /// Everything needed to continue exactly where this run stands; `metadata` adds entries (e.g. the data's path)
    /// beside the training configuration (key `training`).
    public func checkpoint(metadata: [String: String] = [:]) -> Checkpoint {
        return Checkpoint(parameters: model.namedParameters(), optimizerState: optimizer.state, step: step,
                          rngState: generator, config: model.configurationJSON,
                          metadata: metadata.merging(["training": sortedJSONText(configuration)]) { _, training in training })
    }

    /// Continues from `checkpoint`; refuses (changing nothing) one made for another model configuration or shapes.
    /// A configuration written by an earlier version is compared as this version reads it (settings added since take
    /// the values that reproduce the old model, e.g. the plain step rule).
    public func resume(from checkpoint: Checkpoint) throws {
        var saved = checkpoint
        saved.config = Model.currentConfigurationJSON(checkpoint.config) ?? checkpoint.config
        try saved.restore(into: model.namedParameters(), optimizer: optimizer, expectedConfig: model.configurationJSON)
        step = checkpoint.step
        generator = checkpoint.rngState
    }
}

/// `value` as JSON text with sorted keys, so equal configurations give equal text.
func sortedJSONText<T: Encodable>(_ value: T) -> String {
    String(decoding: (try? sortedJSON(value)) ?? Data(), as: UTF8.self)
}

/// `value` encoded as JSON with sorted keys (checkpoint metadata, metrics lines): equal values give equal bytes.
func sortedJSON<T: Encodable>(_ value: T) throws -> Data {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    return try encoder.encode(value)
}

/// What one optimiser step did.
///
/// ```swift
/// let report = try trainer.trainStep()
/// print(report.step, report.loss, report.gradientNorm, report.learningRate)
/// ```
public struct StepReport: Sendable {
    public let step: Int
    public let loss: Double
    public let gradientNorm: Double
    public let learningRate: Double
    public let tokens: Int
}

/// Why training stopped.
///
/// ```swift
/// do { try trainer.trainStep() } catch let error as TrainingError { print(error) }   // says what to do
/// ```
public enum TrainingError: Error, CustomStringConvertible, Equatable {
    case nonFinite(step: Int, what: String, value: Double)
    /// The step's update was taken but the model's loss on the validation batches is not finite; the step is not
    /// checkpointed.
    case nonFiniteValidation(step: Int, value: Double)
    public var description: String {
        let advice = "Lower the learning rate or the gradient clip, then resume from the last checkpoint"
        switch self {
        case let .nonFinite(step, what, value):
            return "training stopped at step \(step): the \(what) became \(value); the parameters were not updated. " + advice
        case let .nonFiniteValidation(step, value):
            return "training stopped at step \(step): the validation loss became \(value) (the model's outputs on the "
                + "validation data are not finite); this step was not checkpointed. " + advice
        }
    }
}
