import Foundation
@_exported import Titans
@_exported import TitansData

/// A batch for training or validation: inputs and next-token targets `[batch, length]`, and which target
/// positions the loss scores (`nil`: all of them).
///
/// ```swift
/// let batch = TrainingBatch(inputs: IndexTensor(shape: [1, 4], [72, 101, 108, 108]),
///                           targets: IndexTensor(shape: [1, 4], [101, 108, 108, 111]))
/// let loss = model.loss(on: batch)
/// ```
public struct TrainingBatch {
    public var inputs: IndexTensor
    public var targets: IndexTensor
    /// 1 where a target counts, 0 elsewhere, `[batch, length]`.
    public var lossWeights: [Double]?

    public init(inputs: IndexTensor, targets: IndexTensor, lossWeights: [Double]? = nil) {
        self.inputs = inputs
        self.targets = targets
        self.lossWeights = lossWeights
    }
}

/// Where training batches come from. Training batches draw on the trainer's generator (so a resumed run continues the
/// same stream); validation batches are fixed.
///
/// ```swift
/// let source: any BatchSource<TrainingBatch> = try ByteDataset(contentsOf: url, minimumLength: 256)
/// var rng = RandomGenerator(seed: 0)
/// let batch = source.trainingBatch(size: 8, length: 256, generator: &rng)
/// ```
public protocol BatchSource<Batch> {
    associatedtype Batch
    func trainingBatch(size: Int, length: Int, generator: inout RandomGenerator) -> Batch
    func validationBatches(size: Int, length: Int, limit: Int) -> [Batch]
    /// A validation loss (nats per scored target) in bits per byte, for data whose every byte is scored; `nil` otherwise.
    func bitsPerByte(ofLoss loss: Double) -> Double?
}

extension BatchSource {
    public func bitsPerByte(ofLoss loss: Double) -> Double? { nil }
}

/// A model ``Trainer`` can train: a module with a loss on the batches of its data, and a configuration that
/// checkpoints keep so the model can be rebuilt and a resumed run checked.
///
/// ```swift
/// let model = LanguageModel(.standard(.lmm), generator: &rng)   // a TrainableModel over TrainingBatch
/// let loss = model.accumulateGradients(on: batch, scale: 1)        // adds the batch's gradient to every parameter
/// ```
public protocol TrainableModel: Module {
    associatedtype Batch
    /// The loss to minimise on `batch`, a scalar (mean per scored target).
    func loss(on batch: Batch) -> Tensor
    /// The model's configuration as JSON with sorted keys.
    var configurationJSON: String { get }
    /// A configuration as this version writes it, from JSON an earlier version may have written (settings added since
    /// take the values that reproduce the old model); `nil` when it is not one.
    static func currentConfigurationJSON(_ json: String) -> String?
    /// `batch` cut into at most `count` smaller batches whose losses, weighted, sum to the loss on `batch` (each
    /// weight the part's share of the scored targets), so they can be computed on separate cores
    /// (``TrainableModel/accumulateGradients(on:scale:parts:)``). The default keeps the batch whole.
    func parts(of batch: Batch, count: Int) -> [(batch: Batch, weight: Double)]
}

extension TrainableModel {
    public func parts(of batch: Batch, count: Int) -> [(batch: Batch, weight: Double)] { [(batch, 1)] }
}

extension LanguageModel: TrainableModel {
    public func loss(on batch: TrainingBatch) -> Tensor { batch.loss(self(batch.inputs).logits) }

    public func parts(of batch: TrainingBatch, count: Int) -> [(batch: TrainingBatch, weight: Double)] {
        batch.rowGroups(count)
    }

    public var configurationJSON: String { sortedJSONText(configuration) }

    public static func currentConfigurationJSON(_ json: String) -> String? {
        (try? JSONDecoder().decode(ModelConfiguration.self, from: Data(json.utf8))).map { sortedJSONText($0) }
    }
}

extension ByteDataset: BatchSource {
    public func bitsPerByte(ofLoss loss: Double) -> Double? { ByteDataset.bitsPerByte(nats: loss) }

    public func trainingBatch(size: Int, length: Int, generator: inout RandomGenerator) -> TrainingBatch {
        let b = batch(split: .train, batchSize: size, length: length, generator: &generator)
        return TrainingBatch(inputs: b.inputs, targets: b.targets)
    }

    public func validationBatches(size: Int, length: Int, limit: Int) -> [TrainingBatch] {
        Array(validationBatches(batchSize: size, length: length).prefix(limit)).map { TrainingBatch(inputs: $0.inputs, targets: $0.targets) }
    }
}

extension TokenDataset: BatchSource {
    public func trainingBatch(size: Int, length: Int, generator: inout RandomGenerator) -> TrainingBatch {
        let b = randomWindows(size: size, length: length, generator: &generator)
        return TrainingBatch(inputs: b.inputs, targets: b.targets)
    }

    public func validationBatches(size: Int, length: Int, limit: Int) -> [TrainingBatch] {
        heldOutWindows(size: size, length: length, limit: limit).map { TrainingBatch(inputs: $0.inputs, targets: $0.targets) }
    }

    public func bitsPerByte(ofLoss loss: Double) -> Double? { bitsPerByte(nats: loss) }
}

/// The recall task, scored on the answers to its questions (every question's, or the probe's only), with probe
/// distances drawn from `distances` (log-uniformly: as many short as long distances per octave).
///
/// ```swift
/// let source = RecallBatches(task: RecallTask(length: 256, facts: 4), distances: 16...192)
/// let trainer = Trainer(model: model, source: source, configuration: TrainingConfiguration(sequenceLength: 256))
/// ```
public struct RecallBatches: BatchSource {
    public let task: RecallTask
    public let distances: ClosedRange<Int>
    /// Score every question's answer (dense supervision), not only the probe's.
    public let allQuestions: Bool

    public init(task: RecallTask, distances: ClosedRange<Int>, allQuestions: Bool = true) {
        self.task = task
        self.distances = distances
        self.allQuestions = allQuestions
    }

    public func trainingBatch(size: Int, length: Int, generator: inout RandomGenerator) -> TrainingBatch {
        precondition(length == task.length, "RecallBatches: the task's sequences have length \(task.length), not \(length)")
        let b = task.batch(size: size, distances: distances, logUniform: true, generator: &generator)
        var weights = [Double](repeating: 0, count: size * length)
        for (row, questions) in b.questions.enumerated() {
            for question in allQuestions ? questions : [questions.last!] { weights[row * length + question.position] = 1 }
        }
        return TrainingBatch(inputs: b.inputs, targets: b.targets, lossWeights: weights)
    }

    public func validationBatches(size: Int, length: Int, limit: Int) -> [TrainingBatch] {
        var generator = RandomGenerator(seed: 0xC0FFEE)  // fixed: the same validation set every time
        return (0..<limit).map { _ in trainingBatch(size: size, length: length, generator: &generator) }
    }
}

extension TrainingBatch {
    /// The rows cut into at most `count` contiguous groups of nearly equal size, each with its share of the scored
    /// targets (all shares 0 when nothing is scored, as the whole batch's loss is then 0).
    func rowGroups(_ count: Int) -> [(batch: TrainingBatch, weight: Double)] {
        guard inputs.shape.count == 2, targets.shape == inputs.shape, inputs.shape[0] > 1, count > 1 else { return [(self, 1)] }
        let length = inputs.shape[1]
        let scored = lossWeights.map { $0.reduce(0, +) } ?? Double(targets.count)
        return Parallel.evenRanges(inputs.shape[0], parts: count).map { rows in
            let part = TrainingBatch(inputs: inputs.rows(rows), targets: targets.rows(rows),
                                     lossWeights: lossWeights.map { Array($0[(rows.lowerBound * length)..<(rows.upperBound * length)]) })
            let partScored = part.lossWeights.map { $0.reduce(0, +) } ?? Double(part.targets.count)
            return (part, scored > 0 ? partScored / scored : 0)
        }
    }

    /// Mean cross-entropy (nats) of `logits` `[batch, length, vocabulary]` over the scored targets.
    public func loss(_ logits: Tensor) -> Tensor {
        guard let lossWeights else { return logits.crossEntropy(targets: targets) }
        let logProbabilities = logits.logSoftmax(axis: -1).take(alongAxis: -1, indices: targets)
        let weights = Tensor(shape: targets.shape, lossWeights, dtype: logits.dtype)
        return -(logProbabilities * weights).sum() / max(lossWeights.reduce(0, +), 1)
    }
}
