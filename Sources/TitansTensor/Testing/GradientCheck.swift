/// Finite-difference checks of gradients, used by the tests of every differentiable op and model.
///
/// ```swift
/// let result = GradientCheck.first(inputs: [x, w]) { t in t[0].matmul(t[1]).silu() }
/// #expect(result.passed, "\(result)")
/// ```
public enum GradientCheck {
    /// The outcome of a check: the worst disagreement between analytic and numerical gradients.
    ///
    /// ```swift
    /// let result = GradientCheck.first(inputs: [x]) { $0[0].tanh().sum() }
    /// print(result)   // the largest error and whether it passed
    /// ```
    public struct Result: CustomStringConvertible, Sendable {
        public let maxAbsoluteError: Double
        public let maxRelativeError: Double
        /// Where the worst disagreement is, e.g. "input 1, element 7: analytic 0.31, numerical 0.30".
        public let worst: String
        public let passed: Bool

        public var description: String {
            "\(passed ? "passed" : "FAILED"): max abs error \(maxAbsoluteError), max rel error \(maxRelativeError); worst at \(worst)"
        }
    }

    /// Compares each input's analytic gradient of `⟨f(inputs), v⟩` (random fixed `v`) with central differences.
    /// Inputs must be float64 leaves; they are perturbed in place and restored.
    public static func first(inputs: [Tensor], epsilon: Double = 1e-6, absoluteTolerance: Double = 1e-7,
                             relativeTolerance: Double = 1e-5, seed: UInt64 = 0,
                             _ f: ([Tensor]) -> Tensor) -> Result {
        let leaves = prepare(inputs)
        var rng = RandomGenerator(seed: seed)
        let probe = f(leaves)
        let direction = Tensor.randomNormal(probe.shape, dtype: .float64, generator: &rng)
        func scalar(_ xs: [Tensor]) -> Tensor { (f(xs) * direction).sum() }
        let analytic = Tensor.gradients(of: scalar(leaves), withRespectTo: leaves)
        return compare(leaves, analytic, epsilon, absoluteTolerance, relativeTolerance, scalar)
    }

    /// Checks the gradients of `⟨f(), v⟩` with respect to tensors that `f` reads itself — a module's parameters,
    /// say. They must be contiguous float64 leaves requiring gradients; they are perturbed in place and restored.
    public static func first(parameters: [Tensor], epsilon: Double = 1e-6, absoluteTolerance: Double = 1e-7,
                             relativeTolerance: Double = 1e-5, seed: UInt64 = 0, _ f: () -> Tensor) -> Result {
        for p in parameters {
            precondition(p.dtype == .float64 && p.isContiguous && p.isLeaf && p.requiresGrad,
                         "GradientCheck: parameters must be contiguous float64 leaves requiring gradients, got \(p.dtype) \(p.shape)")
        }
        var rng = RandomGenerator(seed: seed)
        let direction = Tensor.randomNormal(f().shape, dtype: .float64, generator: &rng)
        func scalar(_: [Tensor]) -> Tensor { (f() * direction).sum() }
        let analytic = Tensor.gradients(of: scalar(parameters), withRespectTo: parameters)
        return compare(parameters, analytic, epsilon, absoluteTolerance, relativeTolerance, scalar)
    }

    /// Second-order check: the gradient `x ↦ ∇⟨f(x), v⟩` is itself checked by finite differences,
    /// through a random projection `w`, so `∇⟨∇⟨f, v⟩, w⟩` (grad of grad) must be right.
    public static func second(inputs: [Tensor], epsilon: Double = 1e-6, absoluteTolerance: Double = 1e-6,
                              relativeTolerance: Double = 1e-4, seed: UInt64 = 0,
                              _ f: ([Tensor]) -> Tensor) -> Result {
        let leaves = prepare(inputs)
        var rng = RandomGenerator(seed: seed)
        let probe = f(leaves)
        let v = Tensor.randomNormal(probe.shape, dtype: .float64, generator: &rng)
        let ws = leaves.map { Tensor.randomNormal($0.shape, dtype: .float64, generator: &rng) }
        func scalar(_ xs: [Tensor]) -> Tensor {
            let grads = Tensor.gradients(of: (f(xs) * v).sum(), withRespectTo: xs, createGraph: true)
            return zip(grads, ws).map { ($0 * $1).sum() }.reduce(Tensor.scalar(0, dtype: .float64), +)
        }
        let analytic = Tensor.gradients(of: scalar(leaves), withRespectTo: leaves)
        return compare(leaves, analytic, epsilon, absoluteTolerance, relativeTolerance, scalar)
    }

    private static func prepare(_ inputs: [Tensor]) -> [Tensor] {
        inputs.map { x in
            precondition(x.dtype == .float64, "GradientCheck: inputs must be float64, got \(x.dtype) \(x.shape)")
            return x.detach().contiguous().requiringGrad()
        }
    }

    private static func compare(_ leaves: [Tensor], _ analytic: [Tensor], _ epsilon: Double, _ atol: Double,
                                _ rtol: Double, _ scalar: ([Tensor]) -> Tensor) -> Result {
        var maxAbs = 0.0, maxRel = 0.0, worst = "nowhere", passed = true, worstScore = -1.0
        for (index, (x, grad)) in zip(leaves, analytic).enumerated() {
            let values = grad.toArray()
            let p = x.pointer(Double.self)
            for i in 0..<x.count {
                let saved = p[i]
                p[i] = saved + epsilon
                let plus = scalar(leaves).item()
                p[i] = saved - epsilon
                let minus = scalar(leaves).item()
                p[i] = saved
                let numerical = (plus - minus) / (2 * epsilon)
                let error = Swift.abs(values[i] - numerical)
                let relative = error / Swift.max(Swift.abs(numerical), 1e-12)
                maxAbs = Swift.max(maxAbs, error)
                maxRel = Swift.max(maxRel, Swift.min(relative, error))
                let ok = error <= atol + rtol * Swift.abs(numerical)
                let score = error / (atol + rtol * Swift.abs(numerical))
                if !ok { passed = false }
                if score > worstScore {
                    worstScore = score
                    worst = "input \(index), element \(i): analytic \(values[i]), numerical \(numerical)"
                }
            }
        }
        return Result(maxAbsoluteError: maxAbs, maxRelativeError: maxRel, worst: worst, passed: passed)
    }
}
