import TitansNN

/// The memory's inner objective: what each token's gradient step minimises, as a function of the read M(k) and the
/// value v. The forms of the update need only its gradient with respect to the read (`outputGradient`); the sequential
/// reference differentiates `value` itself, which is how the tests hold the two equal. The step rules read sizes of
/// the read's gradient, so every rule works with every objective (NeuralMemoryForms.md, "Inner objectives").
///
/// ```swift
/// var memory = NeuralMemoryConfiguration(width: 64, heads: 4)
/// memory.innerLoss = .huber(delta: 1)              // or InnerLoss("huber:1"), as --inner-loss
/// ```
public enum InnerLoss: Equatable, Sendable {
    /// ‖M(k) − v‖², the associative-memory loss of Eq. 12: the delta rule and its generalisations.
    case squaredError
    /// −⟨M(k), v⟩, whose gradient step is the additive update of linear attention (Eq. 4).
    case dotProduct
    /// Σ |M(k) − v|^p, p ≥ 2: an ℓp attentional bias (MIRAS's Moneta uses p = 3), which weighs large errors more.
    case lp(p: Double)
    /// Σ h_δ(M(k) − v) with h_δ(e) = e² for |e| ≤ δ and δ(2|e| − δ) beyond: the squared error near the fit, a
    /// straight line beyond δ, so an outlier value pulls the memory with a gradient of at most 2δ per entry (MIRAS's
    /// Yaad uses a Huber bias).
    case huber(delta: Double)

    /// The loss of reads `out` against `values`, summed over everything.
    func value(_ out: Tensor, _ values: Tensor) -> Tensor {
        switch self {
        case .squaredError: return (out - values).squared().sum()
        case .dotProduct: return -(out * values).sum()
        case .lp(let p): return (out - values).abs().pow(p).sum()
        case .huber(let delta):
            // e² inside, δ(2|e| − δ) outside, as 2ec − c² with c = e clamped to [−δ, δ].
            let error = out - values
            let clamped = error.clamp(min: -delta, max: delta)
            return (error * clamped * 2 - clamped.squared()).sum()
        }
    }

    /// dℓ/d(out) per token: 2(out − v), −v, p·sign(e)·|e|^(p−1), or 2·clamp(e, −δ, δ), with e = out − v.
    func outputGradient(_ out: Tensor, _ values: Tensor) -> Tensor {
        switch self {
        case .squaredError: return (out - values) * 2
        case .dotProduct: return -values
        case .lp(let p):
            let error = out - values
            return error.sign() * error.abs().pow(p - 1) * p
        case .huber(let delta): return (out - values).clamp(min: -delta, max: delta) * 2
        }
    }

    /// How much more sharply this objective curves along the read's gradient g than the squared error does, per token
    /// `[…, n]`: max(1, ½ gᵀHg / ‖g‖²), H = ∂²ℓ/∂M(k)² (NeuralMemoryForms.md "Inner objectives"); `nil` where it is 1 everywhere.
    /// The step rules measure a step in units of the squared error's curvature (2), which is safe for an objective
    /// that curves less (the dot product's 0, Huber's 2 or 0) but not for ℓp with p > 2, whose curvature
    /// p(p−1)|e|^(p−2) grows with the error: without it a chunk-bounded step overshot large errors and diverged.
    func curvatureFactor(_ out: Tensor, _ values: Tensor, outputGradient g: Tensor) -> Tensor? {
        guard case .lp(let p) = self, p > 2 else { return nil }
        let hessian = (out - values).abs().pow(p - 2) * (p * (p - 1))
        let squared = g.squared()
        return ((squared * hessian).sum(axis: -1) * 0.5 / (squared.sum(axis: -1) + GradientSizes.epsilon)).maximum(1)
    }

    /// Why this objective cannot be used, or `nil`.
    public var problem: String? {
        switch self {
        case .lp(let p):
            // Below 2, |e|^(p−2) in the outer loop's derivative of the step is unbounded at a small error.
            return p >= 2 && p.isFinite ? nil : "the exponent of the lp inner loss must be at least 2 (for robustness to outliers use huber)"
        case .huber(let delta): return delta > 0 && delta.isFinite ? nil : "the threshold of the huber inner loss must be positive"
        default: return nil
        }
    }
}

extension InnerLoss: CustomStringConvertible {
    /// The objectives by name, as `description` writes them and ``init(_:)`` reads them (`lp:3`, `huber:1`).
    public static let names = ["squared-error", "dot-product", "lp:P", "huber:DELTA"]

    public var description: String {
        switch self {
        case .squaredError: return "squared-error"
        case .dotProduct: return "dot-product"
        case .lp(let p): return "lp:\(p)"
        case .huber(let delta): return "huber:\(delta)"
        }
    }

    /// Reads an objective written as ``description`` writes it; `nil` for anything else or a parameter out of range.
    public init?(_ text: String) {
        let parts = text.split(separator: ":", maxSplits: 1).map(String.init)
        let parameter = parts.count == 2 ? Double(parts[1]) : nil
        guard parts.count == 1 || parameter != nil else { return nil }
        switch (parts[0], parameter) {
        case ("squared-error", nil): self = .squaredError
        case ("dot-product", nil): self = .dotProduct
        case ("lp", let p?): self = .lp(p: p)
        case ("huber", let delta?): self = .huber(delta: delta)
        default: return nil
        }
        if problem != nil { return nil }
    }
}

/// Stored as its text form. Configurations saved before ℓp and Huber existed wrote `squaredError` or `dotProduct`,
/// which read as those.
extension InnerLoss: Codable {
    public init(from decoder: Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        switch text {
        case "squaredError": self = .squaredError
        case "dotProduct": self = .dotProduct
        default:
            guard let loss = InnerLoss(text) else {
                throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription:
                    "unknown inner loss \(text); expected one of \(Self.names.joined(separator: ", "))"))
            }
            self = loss
        }
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
