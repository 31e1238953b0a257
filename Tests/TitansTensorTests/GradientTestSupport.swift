import Testing
@testable import TitansTensor

/// Deterministic float64 inputs for gradient checks. Every helper is seeded, so a failing check reproduces exactly.
/// The values are chosen so that the checked functions are smooth in a neighbourhood of the check point
/// (no ties for max/min, no kinks for abs/relu/clamp, positive arguments for log/sqrt/pow).
enum Inputs {
    /// Standard normal values times `scale`.
    static func normal(_ shape: [Int], seed: UInt64, scale: Double = 1) -> Tensor {
        var rng = RandomGenerator(seed: seed)
        return Tensor.randomNormal(shape, standardDeviation: scale, dtype: .float64, generator: &rng)
    }

    /// Uniform values in `[low, high)`.
    static func uniform(_ shape: [Int], seed: UInt64, low: Double, high: Double) -> Tensor {
        var rng = RandomGenerator(seed: seed)
        return Tensor.randomUniform(shape, low: low, high: high, dtype: .float64, generator: &rng)
    }

    /// Positive values in `[0.5, 2)`: the domain of log, sqrt, rsqrt and real powers.
    static func positive(_ shape: [Int], seed: UInt64) -> Tensor {
        uniform(shape, seed: seed, low: 0.5, high: 2)
    }

    /// Values with `|x|` in `[0.2, 2)` and random sign: at least 0.2 away from the kink of abs and relu at 0.
    static func awayFromZero(_ shape: [Int], seed: UInt64) -> Tensor {
        var rng = RandomGenerator(seed: seed)
        let values = (0..<Shape.count(shape)).map { _ -> Double in
            let magnitude = 0.2 + 1.8 * rng.nextUniform()
            return rng.nextUniform() < 0.5 ? -magnitude : magnitude
        }
        return Tensor(shape: shape, values, dtype: .float64)
    }

    /// A random permutation of `0 ..< n` drawn from `seed`.
    static func permutation(_ n: Int, seed: UInt64) -> [Int] {
        var rng = RandomGenerator(seed: seed)
        var p = Array(0..<n)
        for i in stride(from: n - 1, to: 0, by: -1) {
            let j = Int(rng.next() % UInt64(i + 1))
            p.swapAt(i, j)
        }
        return p
    }

    /// Pairwise distinct values `(k - ⌊n/2⌋) * spacing + offset`, `k = 0 ..< n`, in random order: no two elements
    /// are within `spacing` of each other, so max and argmax are unique and stay so under small perturbations.
    /// Two tensors with offsets differing by `spacing / 2` share no value and no two of their values are closer than that.
    static func distinct(_ shape: [Int], seed: UInt64, spacing: Double = 0.25, offset: Double = 0) -> Tensor {
        let n = Shape.count(shape)
        let values = permutation(n, seed: seed).map { Double($0 - n / 2) * spacing + offset }
        return Tensor(shape: shape, values, dtype: .float64)
    }

    static func indices(_ shape: [Int], _ values: [Int]) -> IndexTensor { IndexTensor(shape: shape, values) }
}

/// Asserts a first-order finite-difference check of `f` at `inputs`.
func expectFirstOrder(_ inputs: [Tensor], epsilon: Double = 1e-6, sourceLocation: SourceLocation = #_sourceLocation,
                      _ f: ([Tensor]) -> Tensor) {
    let result = GradientCheck.first(inputs: inputs, epsilon: epsilon, f)
    #expect(result.passed, "\(result)", sourceLocation: sourceLocation)
}

/// Asserts a second-order (gradient of gradient) finite-difference check of `f` at `inputs`.
func expectSecondOrder(_ inputs: [Tensor], sourceLocation: SourceLocation = #_sourceLocation, _ f: ([Tensor]) -> Tensor) {
    let result = GradientCheck.second(inputs: inputs, f)
    #expect(result.passed, "\(result)", sourceLocation: sourceLocation)
}

/// Asserts two arrays agree elementwise within `tolerance`.
func expectClose(_ actual: [Double], _ expected: [Double], tolerance: Double = 1e-12,
                 sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(actual.count == expected.count, "count \(actual.count) vs \(expected.count)", sourceLocation: sourceLocation)
    let worst = zip(actual, expected).map { Swift.abs($0 - $1) }.max() ?? 0
    #expect(worst <= tolerance, "max difference \(worst): \(actual) vs \(expected)", sourceLocation: sourceLocation)
}
