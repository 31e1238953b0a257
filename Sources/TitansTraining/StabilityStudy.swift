import Foundation
import TitansEval

/// Trains small models for a fixed budget over a grid of memory depths, chunk sizes, inner learning rates and step
/// rules, and records which diverge and how far each learns: the evidence behind the memory's default step rule.
///
/// ```swift
/// let study = StabilityStudy(text: try ByteDataset(contentsOf: url, minimumLength: 128))
/// let outcome = try study.run(StabilityStudy.Cell(task: .text, rule: .plain, depth: 2, chunkSize: 16, maxLearningRate: 0.1))
/// ```
public struct StabilityStudy {
    /// What a cell trains on.
    ///
    /// ```swift
    /// for task in StabilityStudy.Task.allCases { print(task.rawValue) }   // text, recall
    /// ```
    public enum Task: String, CaseIterable, Sendable {
        /// Bytes of real text, random windows.
        case text
        /// The recall task (facts in random filler, asked later), every answer scored.
        case recall
    }

    /// One training run of the grid.
    ///
    /// ```swift
    /// let cell = StabilityStudy.Cell(task: .text, rule: .plain, depth: 4, chunkSize: 64, maxLearningRate: 0.1)
    /// ```
    public struct Cell: Equatable, Sendable {
        public var task: Task
        public var rule: StepRule
        public var depth: Int
        public var chunkSize: Int
        /// θ_max of the memory.
        public var maxLearningRate: Double

        public init(task: Task, rule: StepRule, depth: Int, chunkSize: Int, maxLearningRate: Double) {
            self.task = task
            self.rule = rule
            self.depth = depth
            self.chunkSize = chunkSize
            self.maxLearningRate = maxLearningRate
        }
    }

    /// How a cell ended.
    ///
    /// ```swift
    /// let outcome = try study.run(cell)
    /// print(outcome.divergedAt.map { "diverged at \($0)" } ?? "stable, loss \(outcome.finalLoss)")
    /// ```
    public struct Outcome: Sendable {
        /// The step at which the loss or a gradient became non-finite, or the loss exceeded ``blowUpLoss`` (the run stops).
        public var divergedAt: Int?
        /// What diverged: "loss", "gradient norm" (non-finite) or "blow-up" (a finite loss above ``blowUpLoss``).
        public var divergence: String?
        /// The mean training loss of the last ten steps (of the steps taken).
        public var finalLoss: Double
        /// The validation loss after the last step, `nil` after a divergence.
        public var validationLoss: Double?
        /// For the recall task: accuracy on the last question with its fact 2× to 4× the window away (beyond the
        /// attention's reach; 64 examples at each of the two distances).
        public var recallBeyondWindow: Double?
    }

    /// A loss this far above a uniform guess over bytes (ln 256 ≈ 5.5 nats) counts as a divergence.
    public static let blowUpLoss = 1.5 * log(256.0)

    public var architecture: ModelConfiguration.Architecture
    public var width: Int
    public var layers: Int
    public var heads: Int
    public var window: Int
    public var steps: Int
    public var batchSize: Int
    public var sequenceLength: Int
    public var learningRate: Double
    public var seed: UInt64
    /// Validation batches at the end of each cell.
    public var evaluationBatches: Int
    /// The text cells' data; `nil` leaves the text task out.
    public var text: ByteDataset?

    public init(architecture: ModelConfiguration.Architecture = .mag, width: Int = 64, layers: Int = 2, heads: Int = 4,
                window: Int = 16, steps: Int = 60, batchSize: Int = 4, sequenceLength: Int = 128, learningRate: Double = 3e-3,
                seed: UInt64 = 0, evaluationBatches: Int = 2, text: ByteDataset?) {
        self.architecture = architecture
        self.width = width
        self.layers = layers
        self.heads = heads
        self.window = window
        self.steps = steps
        self.batchSize = batchSize
        self.sequenceLength = sequenceLength
        self.learningRate = learningRate
        self.seed = seed
        self.evaluationBatches = evaluationBatches
        self.text = text
    }

    /// The model a cell trains: the study's architecture and sizes with the cell's memory (MAC's segment is the larger
    /// of the window and the chunk, a multiple of the chunk).
    public func model(_ cell: Cell) -> ModelConfiguration {
        let memory = NeuralMemoryConfiguration(width: width, heads: heads, memoryDepth: cell.depth,
                                               maxLearningRate: cell.maxLearningRate, stepRule: cell.rule, chunkSize: cell.chunkSize)
        let segment = cell.chunkSize * max(1, window / cell.chunkSize)
        return ModelConfiguration(architecture: architecture, width: width, layers: layers, heads: heads, window: window,
                                  segment: segment, persistentTokens: 4, memory: memory)
    }

    /// The recall task at the study's sequence length: a fact per 32 bytes, at most 8.
    public var recallTask: RecallTask { RecallTask(length: sequenceLength, facts: max(1, min(8, sequenceLength / 32))) }

    /// Trains `cell` for ``steps`` steps and reports how it ended.
    public func run(_ cell: Cell) throws -> Outcome {
        let source: any BatchSource<TrainingBatch>
        switch cell.task {
        case .text:
            guard let text else { throw StudyError.noText }
            source = text
        case .recall:
            let task = recallTask
            source = RecallBatches(task: task, distances: 3...task.maximumDistance)
        }
        let configuration = model(cell)
        if let problem = configuration.problem { throw StudyError.invalidModel(problem) }
        var rng = RandomGenerator(seed: seed)
        let training = TrainingConfiguration(steps: steps, batchSize: batchSize, sequenceLength: sequenceLength,
                                             learningRate: learningRate, seed: seed, evaluationBatches: evaluationBatches)
        let trainer = Trainer(model: LanguageModel(configuration, generator: &rng), source: source, configuration: training)
        var recent = RunningMean(window: 10), last = Double.nan
        for _ in 0..<steps {
            do {
                let report = try trainer.trainStep()
                last = recent.add(report.loss)
                if report.loss > Self.blowUpLoss { return Outcome(divergedAt: report.step, divergence: "blow-up", finalLoss: last) }
            } catch TrainingError.nonFinite(let step, let what, _) {
                return Outcome(divergedAt: step, divergence: what, finalLoss: last)
            }
        }
        var beyond: Double? = nil
        if cell.task == .recall {
            let distances = [2 * window, 4 * window].filter { $0 <= recallTask.maximumDistance }
            let accuracy = RecallEvaluation.accuracy(of: trainer.model, task: recallTask, distances: distances, examples: 64)
            beyond = accuracy.isEmpty ? nil : accuracy.reduce(0, +) / Double(accuracy.count)
        }
        return Outcome(divergedAt: nil, finalLoss: last, validationLoss: trainer.validationLoss(), recallBeyondWindow: beyond)
    }

    /// Why a study cannot run. Each message says what to do.
    ///
    /// ```swift
    /// do { _ = try study.run(cell) } catch let error as StabilityStudy.StudyError { print(error) }
    /// ```
    public enum StudyError: Error, CustomStringConvertible {
        case noText
        case invalidModel(String)
        public var description: String {
            switch self {
            case .noText: return "the text task needs text: pass a file with --data"
            case .invalidModel(let problem): return "the study's settings do not describe a model: \(problem)"
            }
        }
    }
}
