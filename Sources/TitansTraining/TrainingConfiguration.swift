/// How a model is trained. `Codable`: it goes into the checkpoint's metadata beside the model's configuration.
///
/// ```swift
/// let configuration = TrainingConfiguration(steps: 2000, batchSize: 8, sequenceLength: 512, learningRate: 1e-3)
/// if let problem = configuration.problem { print(problem) }
/// ```
public struct TrainingConfiguration: Codable, Equatable, Sendable {
    public var steps: Int
    public var batchSize: Int
    public var sequenceLength: Int
    /// Peak learning rate, reached after `warmupSteps`, then cosine decay to `minimumLearningRate` at `steps`.
    public var learningRate: Double
    public var minimumLearningRate: Double
    public var warmupSteps: Int
    /// Decoupled weight decay of AdamW (matrices only).
    public var weightDecay: Double
    /// Global gradient-norm clipping threshold.
    public var gradientClip: Double
    /// Micro-batches whose gradients are summed (and averaged) per optimiser step.
    public var accumulation: Int
    public var seed: UInt64
    /// Steps between validations, and how many validation batches each uses.
    public var evaluationInterval: Int
    public var evaluationBatches: Int

    /// The defaults of every training setting (the command line's included). The final learning rate defaults to a
    /// tenth of the peak and the warm-up to 5% of the steps (at least one).
    public init(steps: Int = 1000, batchSize: Int = 8, sequenceLength: Int = 256, learningRate: Double = 3e-3,
                minimumLearningRate: Double? = nil, warmupSteps: Int? = nil, weightDecay: Double = 0.1,
                gradientClip: Double = 1, accumulation: Int = 1, seed: UInt64 = 0, evaluationInterval: Int = 100,
                evaluationBatches: Int = 8) {
        self.steps = steps
        self.batchSize = batchSize
        self.sequenceLength = sequenceLength
        self.learningRate = learningRate
        self.minimumLearningRate = minimumLearningRate ?? learningRate / 10
        self.warmupSteps = warmupSteps ?? max(1, steps / 20)
        self.weightDecay = weightDecay
        self.gradientClip = gradientClip
        self.accumulation = accumulation
        self.seed = seed
        self.evaluationInterval = evaluationInterval
        self.evaluationBatches = evaluationBatches
    }

    /// The defaults, for help texts.
    public static let standard = TrainingConfiguration()

    /// Why these settings cannot train, or `nil`.
    public var problem: String? {
        if steps < 1 || batchSize < 1 || sequenceLength < 1 || accumulation < 1 { return "steps, batch size, sequence length and accumulation must be positive" }
        if !(learningRate > 0 && learningRate.isFinite) { return "the learning rate must be a positive number" }
        if !(minimumLearningRate >= 0 && minimumLearningRate <= learningRate) {
            return "the minimum learning rate must be between 0 and the peak learning rate"
        }
        if warmupSteps < 0 || warmupSteps > steps { return "warm-up steps must be between 0 and the number of steps" }
        if !(gradientClip > 0) { return "the gradient clip must be positive (infinity turns clipping off)" }
        if !(weightDecay >= 0 && weightDecay.isFinite) { return "weight decay must be a non-negative number" }
        if evaluationInterval < 1 || evaluationBatches < 0 {
            return "the evaluation interval must be positive and the evaluation batches 0 or more"
        }
        return nil
    }
}
