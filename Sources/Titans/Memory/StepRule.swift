import TitansNN

/// How large each token's inner step is: the step-size part of the memory's inner optimiser. The learning-rate gate
/// gives θ_t (Eq. 14); a rule rescales it from the size of the token's gradient at the chunk's start. The rules, their
/// reasons and the measurements that chose the default are in the article "The neural memory and its forms" (`Titans.docc/NeuralMemoryForms.md`, "Step rules").
///
/// ```swift
/// var memory = NeuralMemoryConfiguration(width: 64, heads: 4)
/// memory.stepRule = .momentumBounded(bound: 0.5)  // the default; .plain is the paper's
/// let rule = StepRule("chunk-bounded:0.5")        // as the command line's --step-rule
/// ```
public enum StepRule: Codable, Equatable, Sendable {
    /// θ_t as the gate gives it: the paper's rule (a chunk's steps add up, so a chunk of b similar keys takes a step b
    /// times as large).
    case plain
    /// Normalised LMS per layer: layer l's step is θ_t / ‖x_l‖², x_l the layer's input for the token, so a step's effect
    /// on the token's own layer output does not depend on the input's scale.
    case layerNormalized
    /// θ_t / κ_t, κ_t the curvature of the token's loss along its own error (NeuralMemoryForms.md "Step rules"): the step's effect on
    /// the token's own read is θ_t times its error, for any depth and width. κ = ‖k‖² for a matrix memory.
    case curvatureNormalized
    /// Per-token gradient-norm clipping: θ_t · min(1, maxNorm / ‖∇ℓ_t‖).
    case gradientClipped(maxNorm: Double)
    /// The chunk's mean instead of its sum: θ_t / b.
    case chunkMean
    /// A bound on the chunk's summed step: the reads and the state after token i of a chunk take the steps of tokens
    /// 1…i scaled by ρ_i = min(1, bound / Σ_{m ≤ i} θ_m κ_m). Without momentum a chunk never moves a read by more than
    /// 2 · bound times its error (to first order; with bound ½, at most to an exact fit), however many similar keys it
    /// holds; at b = 1 it caps θ_t at bound / κ_t. With momentum it counts each step once, though momentum repeats it
    /// (``momentumBounded(bound:)``).
    case chunkBounded(bound: Double)
    /// The chunk bound with each token's load counted over every token momentum carries its step to:
    /// ρ_i = min(1, bound / Σ_{m ≤ i} θ_m κ_m / (1 − η_m)). Momentum repeats a step, decaying by η, so its whole move is
    /// 1/(1 − η) times the step; the chunk bound counts it once, and with η near 1 a run of similar chunks moves the
    /// memory without limit (NeuralMemoryForms.md, "Bounding what momentum carries"). Without momentum it is
    /// ``chunkBounded(bound:)``. Not the paper's rule.
    case momentumBounded(bound: Double)
    /// Between the two: token m's repeats are counted as far as its step continues the surprise carried into its chunk,
    /// ρ_i = min(1, bound / Σ_{m ≤ i} θ_m κ_m (1 + c_m η_m / (1 − η_m))), c_m = |cos(u_m, S_p)| the alignment of its
    /// gradient with that surprise. A run of the same key soon carries its own direction (c → 1, the momentum bound); a
    /// new fact does not (c ≈ 0, the chunk bound), so momentum still carries it (NeuralMemoryForms.md, "Bounding only
    /// the carry that repeats"). c is a constant of the outer gradient. Not the paper's rule.
    case carryBounded(bound: Double)

    /// Why this rule cannot be used, or `nil`.
    public var problem: String? {
        switch self {
        case .gradientClipped(let maxNorm): return maxNorm > 0 ? nil : "the gradient clip of the step rule must be positive"
        case .chunkBounded(let bound), .momentumBounded(let bound), .carryBounded(let bound):
            return bound > 0 ? nil : "the bound of the step rule must be positive"
        default: return nil
        }
    }

    /// The bound on a chunk's load of the rules that scale rows (ρ), or `nil`.
    var chunkBound: Double? {
        switch self {
        case .chunkBounded(let bound), .momentumBounded(let bound), .carryBounded(let bound): return bound
        default: return nil
        }
    }

    /// Whether the rule reads each token's alignment with the carried surprise (``GradientSizes/surpriseAlignment``).
    var readsSurpriseAlignment: Bool {
        if case .carryBounded = self { return true }
        return false
    }
}

/// The sizes of each token's gradient at the chunk's start that the step rules read, each `[B, H, n]`.
struct GradientSizes {
    /// ‖x_l‖², the squared norm of each memory layer's input.
    var inputs: [Tensor]
    /// ‖∇_l ℓ‖², the squared norm of each parameter tensor's gradient (the layers', then the gain's).
    var parameters: [Tensor]
    /// ‖∂ℓ/∂M(k)‖², the squared norm of the loss's gradient with respect to the memory's output.
    var output: Tensor
    /// How much more sharply the objective curves than the squared error (``InnerLoss/curvatureFactor(_:_:outputGradient:)``);
    /// `nil` for 1.
    var objectiveCurvature: Tensor? = nil
    /// |cos| between each token's gradient and the surprise carried into its chunk, in [0, 1]; filled only for the
    /// rules that read it (``StepRule/carryBounded(bound:)``).
    var surpriseAlignment: Tensor? = nil

    /// κ: the loss's curvature along the token's own error (Gauss–Newton): Σ_l ‖∇_l ℓ‖² / ‖∂ℓ/∂M(k)‖², times the
    /// objective's factor; 0 for a token whose error is 0 (its gradient is 0 too).
    var curvature: Tensor {
        let jacobian = squaredGradientNorm / (output + Self.epsilon)
        return objectiveCurvature.map { jacobian * $0 } ?? jacobian
    }

    /// ‖∇ℓ‖², all parameter tensors together.
    var squaredGradientNorm: Tensor { parameters.dropFirst().reduce(parameters[0], +) }

    /// These sizes with ``surpriseAlignment`` filled when `rule` reads it: `products` ⟨u_m, S⟩ summed over the parameter
    /// tensors `[B, H, n]`, by the form's own route, against `surprise`, the surprise carried into the chunk (the
    /// cursor's, which momentum and retention alone have carried since: a positive multiple, the same cosine).
    ///
    /// The alignment is a constant of the outer gradient, computed without recording: differentiated, through the
    /// carried surprise or through the token's gradient, it joined the chunk-to-chunk recurrence the outer gradient
    /// runs back through, and on text of 4,096 bytes the outer gradient of the LMM, MAC and MAL grew to 10²⁰–10³¹ within
    /// 5–7 training steps (NeuralMemoryForms.md, "Bounding only the carry that repeats"). ``heldAlignment`` lets the
    /// finite-difference tests hold it at the values it had.
    func aligned(for rule: StepRule, surprise: [Tensor], products: () -> Tensor) -> GradientSizes {
        guard rule.readsSurpriseAlignment else { return self }
        var alignment = withoutGradients {
            let norms = surprise.map { $0.squared().sum(axes: [-2, -1]) }
            let surpriseNorm = norms.dropFirst().reduce(norms[0], +).unsqueeze(-1)  // [B or 1, H, 1]
            // |⟨u, S⟩| / √max(‖u‖² ‖S‖², ε): 0 where nothing is carried. The guard is a floor, not a sum, so the cosine
            // does not depend on which positive multiple of S a form carries (a chunk continued across calls carries
            // S_p times momentum's products; its first call, S_p).
            return (products().abs() / (squaredGradientNorm * surpriseNorm).maximum(Self.epsilon).sqrt()).minimum(1)
        }
        if let record = Self.heldAlignment { alignment = record.take(alignment) }
        var sizes = self
        sizes.surpriseAlignment = alignment
        return sizes
    }

    /// While set, the alignments every ``aligned(for:surprise:products:)`` computes, in order: recorded on the first
    /// pass, the same values given back on each pass after ``HeldAlignment/rewind()``. A finite-difference check of the
    /// carry bound's outer gradient, which holds the alignment constant, perturbs the inputs with it held.
    @TaskLocal static var heldAlignment: HeldAlignment?

    /// Keeps quotients finite, and their derivatives too, where a token's error or input is 0. Large enough that its
    /// square and their reciprocals stay inside float32: with 1e-20 the backward met 0 × ∞ and the outer gradient of a
    /// depth-3 memory became NaN (StepRuleEdgeTests).
    static let epsilon = 1e-12
}

/// The alignments the carry bound has computed (``GradientSizes/heldAlignment``): recorded, then given back in order.
final class HeldAlignment: @unchecked Sendable {
    private var recorded: [Tensor] = []
    private var next = 0
    private var replaying = false

    /// Starts giving back what was recorded, from the first.
    func rewind() { (next, replaying) = (0, true) }

    /// `alignment` recorded, or the recorded alignment in its place.
    func take(_ alignment: Tensor) -> Tensor {
        guard replaying else {
            recorded.append(alignment)
            return alignment
        }
        defer { next += 1 }
        return recorded[next]
    }
}

/// The step sizes a rule gives for `n` tokens of one chunk.
struct StepSizes {
    /// θ per parameter tensor `[B, H, n]`, each column's token weight in the chunk's sums.
    var perParameter: [Tensor]
    /// ρ_i `[B, H, n]` scaling every step in row i (the chunk bound), `nil` when the rule has none.
    var rowScale: Tensor?
    /// The chunk's summed load Σ θ_m κ_m after these tokens `[B, H]`, for a chunk that continues in a later call.
    var load: Tensor?
}

extension StepRule {
    /// Step sizes for `learningRate` θ `[B, H, n]` of `n` consecutive tokens of a chunk of `chunkSize`, after
    /// `carriedLoad` from the chunk's earlier tokens; `logMomentum` log η `[B, H, n]` (`nil`: no momentum) is read by
    /// the momentum bound alone. `sizes` is called only by the rules that read them.
    func stepSizes(learningRate theta: Tensor, logMomentum: Tensor?, parameterCount: Int, sizes: () -> GradientSizes,
                   carriedLoad: Tensor?, chunkSize: Int) -> StepSizes {
        func shared(_ t: Tensor) -> [Tensor] { Array(repeating: t, count: parameterCount) }
        switch self {
        case .plain:
            return StepSizes(perParameter: shared(theta))
        case .chunkMean:
            return StepSizes(perParameter: shared(theta * (1 / Double(chunkSize))))
        case .layerNormalized:
            let s = sizes()
            // The gain of the residual wrapper (a last parameter with no layer input) keeps θ.
            return StepSizes(perParameter: (0..<parameterCount).map { l in
                l < s.inputs.count ? theta / (s.inputs[l] + GradientSizes.epsilon) : theta
            })
        case .curvatureNormalized:
            return StepSizes(perParameter: shared(theta / (sizes().curvature + GradientSizes.epsilon)))
        case .gradientClipped(let maxNorm):
            // min(1, c / ‖∇ℓ‖) as c / √max(‖∇ℓ‖², c²): no square root at 0, whose derivative is infinite.
            return StepSizes(perParameter: shared(theta * sizes().squaredGradientNorm.maximum(maxNorm * maxNorm).rsqrt() * maxNorm))
        case .chunkBounded(let bound), .momentumBounded(let bound), .carryBounded(let bound):
            let measured = sizes()
            var tokenLoads = theta * measured.curvature
            func gap(_ momentum: Tensor) -> Tensor { (1 - momentum).maximum(Self.smallestMomentumGap) }
            switch (self, logMomentum) {
            case (.momentumBounded, let logMomentum?):  // θκ / (1 − η): the step and every repeat momentum adds, Σ_k η^k = 1 / (1 − η)
                tokenLoads = tokenLoads / gap(logMomentum.exp())
            case (.carryBounded, let logMomentum?):  // θκ (1 + c η / (1 − η)): the repeats, as far as the step continues the carry
                let momentum = logMomentum.exp()
                let alignment = measured.surpriseAlignment ?? Tensor.ones(like: momentum)
                tokenLoads = tokenLoads * (1 + alignment * momentum / gap(momentum))
            default: break
            }
            var load = tokenLoads.cumulativeSum(axis: -1)
            if let carriedLoad { load = load + carriedLoad.unsqueeze(-1) }
            let last = load.select(axis: -1, index: load.shape[load.rank - 1] - 1)
            // min(1, B / L) as B / max(L, B): no reciprocal of a load near 0.
            return StepSizes(perParameter: shared(theta), rowScale: bound / load.maximum(bound), load: last)
        }
    }

    /// The least 1 − η the momentum bound divides by: an η that rounds to 1 (float32 at log η > −6e−8) counts as
    /// repeating its step a million times, not infinitely often.
    static let smallestMomentumGap = 1e-6
}

extension StepRule: CustomStringConvertible {
    /// The rules by name, as `description` writes them and ``init(_:)`` reads them (`clipped:1`, `chunk-bounded:0.5`).
    public static let names = ["plain", "layer-normalized", "curvature-normalized", "clipped:MAXNORM", "chunk-mean", "chunk-bounded:BOUND",
                               "momentum-bounded:BOUND", "carry-bounded:BOUND"]

    public var description: String {
        switch self {
        case .plain: return "plain"
        case .layerNormalized: return "layer-normalized"
        case .curvatureNormalized: return "curvature-normalized"
        case .gradientClipped(let maxNorm): return "clipped:\(maxNorm)"
        case .chunkMean: return "chunk-mean"
        case .chunkBounded(let bound): return "chunk-bounded:\(bound)"
        case .momentumBounded(let bound): return "momentum-bounded:\(bound)"
        case .carryBounded(let bound): return "carry-bounded:\(bound)"
        }
    }

    /// Reads a rule written as ``description`` writes it; `nil` for anything else or a parameter that is not positive.
    public init?(_ text: String) {
        let parts = text.split(separator: ":", maxSplits: 1).map(String.init)
        let parameter = parts.count == 2 ? Double(parts[1]) : nil
        guard parts.count == 1 || (parameter.map { $0 > 0 && $0.isFinite } ?? false) else { return nil }
        switch (parts[0], parameter) {
        case ("plain", nil): self = .plain
        case ("layer-normalized", nil): self = .layerNormalized
        case ("curvature-normalized", nil): self = .curvatureNormalized
        case ("clipped", let maxNorm?): self = .gradientClipped(maxNorm: maxNorm)
        case ("chunk-mean", nil): self = .chunkMean
        case ("chunk-bounded", let bound?): self = .chunkBounded(bound: bound)
        case ("momentum-bounded", let bound?): self = .momentumBounded(bound: bound)
        case ("carry-bounded", let bound?): self = .carryBounded(bound: bound)
        default: return nil
        }
    }
}
