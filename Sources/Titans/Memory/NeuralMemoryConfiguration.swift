/// Everything that defines one layer of neural long-term memory (paper §3, §4.4). `Codable`, so a
/// checkpoint's metadata can rebuild the layer.
///
/// ```swift
/// let configuration = NeuralMemoryConfiguration(width: 256, heads: 4, memoryDepth: 2, chunkSize: 16)
/// let memory = NeuralMemory(configuration, generator: &rng)
/// ```
public struct NeuralMemoryConfiguration: Codable, Equatable, Sendable {
    /// The activation between the memory MLP's layers.
    ///
    /// ```swift
    /// var memory = NeuralMemoryConfiguration(width: 64, heads: 4)
    /// memory.activation = .gelu
    /// ```
    public enum Activation: String, Codable, Sendable { case silu, gelu }

    /// Model width `d` of the layer's input and output.
    public var width: Int
    /// Number of heads; each head has its own memory.
    public var heads: Int
    /// Width of keys, values and queries per head.
    public var headWidth: Int
    /// Depth `L` of the memory MLP (1 is a matrix memory).
    public var memoryDepth: Int
    /// Hidden width of the memory MLP as a multiple of `headWidth` (for `memoryDepth ≥ 2`).
    public var hiddenExpansion: Int
    public var activation: Activation
    /// With depth ≥ 2, a linear map beside the MLP: `M(k) = MLP(k) + k W_s`, so a deep memory holds the matrix memory
    /// as one of its parts (README "Depth": without it, depth 2 learned the recall task far more slowly than depth 1).
    public var linearShortcut: Bool
    /// Wrap the memory MLP as `k + LN(MLP(k)) ⊙ (g + 1)`, g a learned gain that the inner loop updates too
    /// (the TTT-style wrapper of titans-pytorch).
    public var residualNorm: Bool
    /// The inner objective each token's step minimises (``InnerLoss``; Eq. 12's squared error unless given).
    public var innerLoss: InnerLoss
    /// Kernel of the depthwise causal convolution after the query, key and value projections; 0 switches it off.
    public var convolutionKernel: Int
    /// The learning rate θ is `maxLearningRate · sigmoid(x W_θ)`; one default for every depth (``defaultMaxLearningRate``),
    /// which the default step rule keeps stable (NeuralMemoryForms.md, "Step rules").
    public var maxLearningRate: Double
    /// Momentum η (past surprise, Eq. 14); when off η ≡ 0 and the update is plain gradient descent.
    public var momentum: Bool
    /// Forgetting α (weight decay, Eq. 13); when off α ≡ 0.
    public var forgetting: Bool
    /// The forgetting gate's bias starts at logit(initialForgetting), so a fresh memory forgets about this share per
    /// token: small, so facts survive hundreds of tokens until the model learns when to forget (at 0.5, a bias of 0,
    /// a fresh memory halves every token and no long-range gradient reaches the gates).
    public var initialForgetting: Double
    /// Forgetting decays the memory toward its learned initial weights M₀ instead of toward zero:
    /// `M_t = (1 − α_t) M_{t−1} + α_t M₀ + S_t`, so what forgetting takes away is what the memory learnt while reading,
    /// never M₀ itself (Eq. 13 forgets M₀ too, and a model trained on short sequences then reads long ones with a memory
    /// it never saw; NeuralMemoryForms.md "Forgetting toward M₀"). Needs forgetting and steps at the chunks' starts.
    public var forgetsTowardInitial: Bool
    /// How large each token's step is, from θ and the size of its gradient (the inner optimiser's step-size rule).
    public var stepRule: StepRule

    /// θ_max unless given: the same for every depth.
    public static let defaultMaxLearningRate = 0.1
    /// The step rule unless given: the chunk's summed step, with every repeat momentum makes of it, bounded at half the
    /// tokens' errors. The chunk bound alone (``StepRule/chunkBounded(bound:)``, the default before) lets a chunk's map
    /// grow along a repeated key once η passes about 0.6 at chunks of 16, and ordinary text at 2,048 bytes diverged in
    /// the first training steps; this bound keeps the map contracting with a margin of 2 at every η and chunk size
    /// (NeuralMemoryForms.md, "Step rules" and "When a chunk's map grows").
    public static let defaultStepRule = StepRule.momentumBounded(bound: 0.5)
    /// Chunk size `b` of the parallel form (§3.2): gradients inside a chunk are taken at its start; 1 is the exact online rule.
    public var chunkSize: Int
    /// Every token's gradient at the memory its predecessor left (the exact online rule at any chunk size), computed in
    /// parallel blocks of up to `chunkSize` tokens (at most 16): the delta rule of DeltaNet and Gated DeltaNet. Only for
    /// a matrix memory under the squared error with plain steps and no momentum (NeuralMemoryForms.md "The exact delta
    /// rule in blocks").
    public var exactSteps: Bool
    /// With exact steps: each token's error at the memory after its own forgetting, `(1 − α_t) M_{t−1}`, as Gated
    /// DeltaNet takes it (S_t = a_t S_{t−1}(I − β_t k_t k_tᵀ) + β_t v_t k_tᵀ, its gate a_t = 1 − α_t), not at `M_{t−1}`
    /// as Eq. 13 does; the Gated DeltaNet preset takes it (NeuralMemoryForms.md "The exact delta rule in blocks").
    public var gradientAtRetainedMemory: Bool
    /// Normalise the retrieved values and gate them with `sigmoid(x W_g)` before the output projection (§4.4).
    public var outputGate: Bool

    public init(width: Int, heads: Int = 1, headWidth: Int? = nil, memoryDepth: Int = 2, hiddenExpansion: Int = 2,
                activation: Activation = .silu, linearShortcut: Bool = true, residualNorm: Bool = false, innerLoss: InnerLoss = .squaredError, convolutionKernel: Int = 4, maxLearningRate: Double = defaultMaxLearningRate,
                momentum: Bool = true, forgetting: Bool = true, initialForgetting: Double = 0.002, forgetsTowardInitial: Bool = false,
                stepRule: StepRule = defaultStepRule,
                chunkSize: Int = 16, exactSteps: Bool = false, gradientAtRetainedMemory: Bool = false, outputGate: Bool = true) {
        self.width = width
        self.heads = heads
        self.headWidth = headWidth ?? (heads > 0 ? width / heads : 0)  // 0 heads: a problem, not a division by zero
        self.memoryDepth = memoryDepth
        self.hiddenExpansion = hiddenExpansion
        self.activation = activation
        self.linearShortcut = linearShortcut
        self.residualNorm = residualNorm
        self.innerLoss = innerLoss
        self.convolutionKernel = convolutionKernel
        self.maxLearningRate = maxLearningRate
        self.momentum = momentum
        self.forgetting = forgetting
        self.initialForgetting = initialForgetting
        self.forgetsTowardInitial = forgetsTowardInitial
        self.stepRule = stepRule
        self.chunkSize = chunkSize
        self.exactSteps = exactSteps
        self.gradientAtRetainedMemory = gradientAtRetainedMemory
        self.outputGate = outputGate
    }

    /// Whether the memory has a shortcut: asked for, and deep enough to need one.
    public var hasShortcut: Bool { linearShortcut && memoryDepth >= 2 }

    /// Input and output widths of each matrix of the memory per head: the MLP's layers, then the shortcut's.
    public var memoryLayerWidths: [(input: Int, output: Int)] {
        let hidden = headWidth * hiddenExpansion
        return (0..<memoryDepth).map { l in
            (l == 0 ? headWidth : hidden, l == memoryDepth - 1 ? headWidth : hidden)
        } + (hasShortcut ? [(headWidth, headWidth)] : [])
    }

    /// Why this configuration cannot build a layer, or `nil` when it can.
    public var problem: String? {
        if width < 1 || heads < 1 || headWidth < 1 { return "width, heads and headWidth must be positive" }
        if memoryDepth < 1 { return "memoryDepth must be at least 1" }
        if hiddenExpansion < 1 { return "hiddenExpansion must be at least 1" }
        if chunkSize < 1 { return "chunkSize must be at least 1" }
        if convolutionKernel < 0 { return "convolutionKernel cannot be negative" }
        if !(maxLearningRate > 0 && maxLearningRate.isFinite) { return "maxLearningRate must be a positive number" }
        if !(initialForgetting > 0 && initialForgetting < 1) { return "initialForgetting must be in (0, 1)" }
        if exactSteps && (memoryDepth != 1 || residualNorm || innerLoss != .squaredError || momentum || stepRule != .plain) {
            return "exact steps need a matrix memory (depth 1, no residual wrapper) under the squared error, with plain steps and "
                + "no momentum; other memories take their steps at the chunk's start (--inner-steps chunk-start)"
        }
        if forgetsTowardInitial && (!forgetting || exactSteps) {
            return "forgetting toward M₀ needs forgetting on and the steps at the chunks' starts (not --no-forgetting or --inner-steps exact)"
        }
        if gradientAtRetainedMemory && !exactSteps {
            return "the gradient at the retained memory (Gated DeltaNet's order) is taken by exact steps only (--inner-steps exact)"
        }
        return innerLoss.problem ?? stepRule.problem
    }
}

extension NeuralMemoryConfiguration {
    private enum CodingKeys: String, CodingKey {
        case width, heads, headWidth, memoryDepth, hiddenExpansion, activation, linearShortcut, residualNorm, innerLoss, convolutionKernel
        case maxLearningRate, momentum, forgetting, initialForgetting, forgetsTowardInitial, stepRule, chunkSize, exactSteps
        case gradientAtRetainedMemory, outputGate
    }

    /// Exact steps, the gradient at the retained memory and forgetting toward M₀ are written only when on, so a
    /// configuration without them reads and compares as it did before they existed (a saved reproduction result is reused
    /// only for the same text).
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(width, forKey: .width)
        try c.encode(heads, forKey: .heads)
        try c.encode(headWidth, forKey: .headWidth)
        try c.encode(memoryDepth, forKey: .memoryDepth)
        try c.encode(hiddenExpansion, forKey: .hiddenExpansion)
        try c.encode(activation, forKey: .activation)
        try c.encode(linearShortcut, forKey: .linearShortcut)
        try c.encode(residualNorm, forKey: .residualNorm)
        try c.encode(innerLoss, forKey: .innerLoss)
        try c.encode(convolutionKernel, forKey: .convolutionKernel)
        try c.encode(maxLearningRate, forKey: .maxLearningRate)
        try c.encode(momentum, forKey: .momentum)
        try c.encode(forgetting, forKey: .forgetting)
        try c.encode(initialForgetting, forKey: .initialForgetting)
        if forgetsTowardInitial { try c.encode(forgetsTowardInitial, forKey: .forgetsTowardInitial) }
        try c.encode(stepRule, forKey: .stepRule)
        try c.encode(chunkSize, forKey: .chunkSize)
        if exactSteps { try c.encode(exactSteps, forKey: .exactSteps) }
        if gradientAtRetainedMemory { try c.encode(gradientAtRetainedMemory, forKey: .gradientAtRetainedMemory) }
        try c.encode(outputGate, forKey: .outputGate)
    }

    /// Configurations saved before step rules, shortcuts, exact steps and forgetting toward M₀ existed have none: they
    /// took plain steps at their chunks' starts, each gradient at M_{t−1}, forgot toward zero, and their deep memories
    /// had no shortcut. (Their `persistentTokens`, now the mixers' alone, is ignored: models always set it to 0.)
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(width: try c.decode(Int.self, forKey: .width), heads: try c.decode(Int.self, forKey: .heads),
                  headWidth: try c.decode(Int.self, forKey: .headWidth), memoryDepth: try c.decode(Int.self, forKey: .memoryDepth),
                  hiddenExpansion: try c.decode(Int.self, forKey: .hiddenExpansion),
                  activation: try c.decode(Activation.self, forKey: .activation),
                  linearShortcut: try c.decodeIfPresent(Bool.self, forKey: .linearShortcut) ?? false,
                  residualNorm: try c.decode(Bool.self, forKey: .residualNorm), innerLoss: try c.decode(InnerLoss.self, forKey: .innerLoss),
                  convolutionKernel: try c.decode(Int.self, forKey: .convolutionKernel),
                  maxLearningRate: try c.decode(Double.self, forKey: .maxLearningRate), momentum: try c.decode(Bool.self, forKey: .momentum),
                  forgetting: try c.decode(Bool.self, forKey: .forgetting),
                  initialForgetting: try c.decode(Double.self, forKey: .initialForgetting),
                  forgetsTowardInitial: try c.decodeIfPresent(Bool.self, forKey: .forgetsTowardInitial) ?? false,
                  stepRule: try c.decodeIfPresent(StepRule.self, forKey: .stepRule) ?? .plain,
                  chunkSize: try c.decode(Int.self, forKey: .chunkSize),
                  exactSteps: try c.decodeIfPresent(Bool.self, forKey: .exactSteps) ?? false,
                  gradientAtRetainedMemory: try c.decodeIfPresent(Bool.self, forKey: .gradientAtRetainedMemory) ?? false,
                  outputGate: try c.decode(Bool.self, forKey: .outputGate))
    }
}
