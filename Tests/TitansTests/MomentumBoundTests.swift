import Foundation
import Testing
@testable import Titans

/// The momentum bound (`StepRule.momentumBounded`, NeuralMemoryForms.md "Bounding what momentum carries"): its loads
/// against values worked out by hand, the repeated read it keeps from growing where the chunk bound does not, and the
/// μ it carries from chunk to chunk through every path (the forms' equality under it is in MemoryUpdateTests and
/// FusedRecurrentTests, which run every rule).
struct MomentumBoundTests {
    /// Row i's load counts each step as often as it has reached row i: with η = 0.75, θκ = 0.4 per token (the
    /// repeated-key chunk), an earlier load of 0.25 and the earlier tokens' surprise s₀, s_i = 0.75 s_{i−1} + 0.4 and
    /// L_i = 0.25 + Σ_{j≤i} s_j, ρ_i = min(1, b / L_i); without momentum L_i = 0.25 + 0.4 i, the chunk bound's.
    @Test func rowLoadsCountTheRepeatsARowHasSeen() {
        let (mlp, stream, state, _) = StepRuleTests.repeatedKeyChunk()
        let factors = mlp.gradientFactors(state.weights, keys: stream.keys, values: stream.values)
        let logMomentum = Tensor.full([1, 1, 8], value: Foundation.log(0.75), dtype: .float64)
        for (bound, earlier) in [(0.5, 0.0), (4.0, 0.0), (4.0, 0.5)] {
            for momentum in [logMomentum, nil] {
                let sizes = StepRule.momentumBounded(bound: bound).stepSizes(
                    learningRate: stream.learningRate, logMomentum: momentum, parameterCount: 1, sizes: { factors.sizes },
                    carriedLoad: Tensor.full([1, 1], value: 0.25, dtype: .float64),
                    earlierMomentumLoad: Tensor.full([1, 1], value: earlier, dtype: .float64), chunkSize: 8)
                var (s, load, expected) = (earlier, 0.25, [Double]())
                for _ in 0..<8 {
                    s = momentum == nil ? 0.4 : 0.75 * s + 0.4
                    load += s
                    expected.append(min(1, bound / load))
                }
                let rowScale = sizes.rowScale?.toArray() ?? []
                #expect(rowScale.count == 8 && zip(rowScale, expected).allSatisfy { Swift.abs($0 - $1) < 1e-12 },
                        "bound \(bound), s₀ \(earlier), momentum \(momentum != nil): \(rowScale) vs \(expected)")
                #expect(Swift.abs((sizes.load?.item() ?? 0) - load) < 1e-12)
                #expect(momentum == nil ? sizes.momentumLoad == nil : Swift.abs((sizes.momentumLoad?.item() ?? 0) - s) < 1e-12)
            }
        }
    }

    /// At a chunk's start the first token's η is lowered so the surprise carried in, of load μ, moves reads by at most
    /// the bound from there on: η₁ · min(1, b (1 − η₁) / μ). With b = 0.5 and η₁ = 0.75, μ = 2 gives η₁ · 0.0625 and
    /// μ = 0.1 leaves it; later tokens, other rules and a chunk under way are left as they are.
    @Test func carriedSurpriseIsBoundedAtAChunksStart() {
        let (_, one, _, _) = StepRuleTests.repeatedKeyChunk()
        var stream = one.slice(0..<3)
        stream.logMomentum = Tensor(shape: [1, 1, 3], [Foundation.log(0.75), Foundation.log(0.5), Foundation.log(0.9)], dtype: .float64)
        let rule = StepRule.momentumBounded(bound: 0.5)
        for (mu, factor) in [(2.0, 0.0625), (0.1, 1.0)] {
            let lowered = rule.boundingCarriedSurprise(stream, carriedMomentumLoad: Tensor.full([1, 1], value: mu, dtype: .float64),
                                                       atChunkStart: true).logMomentum?.toArray() ?? []
            let expected = [0.75 * factor, 0.5, 0.9].map { Foundation.log($0) }
            #expect(lowered.count == 3 && zip(lowered, expected).allSatisfy { Swift.abs($0 - $1) < 1e-12 }, "μ \(mu): \(lowered)")
        }
        let mu = Tensor.full([1, 1], value: 2.0, dtype: .float64)
        for (other, atStart) in [(rule, false), (StepRule.chunkBounded(bound: 0.5), true)] {
            let kept = other.boundingCarriedSurprise(stream, carriedMomentumLoad: mu, atChunkStart: atStart).logMomentum
            #expect(kept?.toArray() == stream.logMomentum?.toArray())
        }
    }

    /// Why the bound exists. A matrix memory reads one unit key over and over, in chunks of b, its read's error at first
    /// r₀. Momentum moves the read by each step again and again, which the chunk bound counts once: with η = 0.9 and
    /// chunks of 8 the error grows past 100 r₀ within 12 chunks (a scalar model of the chunk equations in
    /// NeuralMemoryForms.md, along the key, gives 389 r₀). Under the momentum bound it never grows past r₀, and the first
    /// chunk still fits the key in two tokens: token 1's load, 0.4, is under the bound and moves the error to 0.2 r₀;
    /// token 2's row then moves it by exactly 2 · 0.5 of it (ρ₂ L₂ = 0.5), to 0.
    @Test(arguments: [(0.5, 1), (0.5, 16), (0.9, 4), (0.9, 8), (0.99, 1), (0.99, 16)])
    func aRepeatedReadNeverGrowsAndIsStillFittedFast(momentum: Double, chunkSize: Int) {
        let (mlp, one, state, residual) = StepRuleTests.repeatedKeyChunk()
        let length = 12 * chunkSize, width = 3
        let keys = one.keys.select(axis: 2, index: 0).unsqueeze(2).expand(to: [1, 1, length, width])
        let values = one.values.select(axis: 2, index: 0).unsqueeze(2).expand(to: [1, 1, length, width])
        let stream = MemoryStream(queries: keys, keys: keys, values: values,
                                  learningRate: Tensor.full([1, 1, length], value: 0.4, dtype: .float64),
                                  logMomentum: Tensor.full([1, 1, length], value: Foundation.log(momentum), dtype: .float64),
                                  logRetention: nil)
        let start = residual.map { $0 * $0 }.reduce(0, +).squareRoot()
        func errors(_ rule: StepRule) -> [Double] {
            let (reads, _) = MemoryUpdate.chunked(mlp, stream, MemoryCursor(start: state), chunkSize: chunkSize, rule: rule)
            let e = zip(reads.toArray(), values.toArray()).map { $0 - $1 }
            return stride(from: 0, to: e.count, by: width).map { i in e[i..<(i + width)].map { $0 * $0 }.reduce(0, +).squareRoot() }
        }
        let bounded = errors(.momentumBounded(bound: 0.5))
        let largest = bounded.max() ?? .infinity
        #expect(largest <= start * (1 + 1e-9), "η \(momentum), chunks of \(chunkSize): \(largest) against \(start) at the start")
        #expect(Swift.abs(bounded[0] - 0.2 * start) < 1e-9)
        if chunkSize > 1 { #expect(bounded[1] < 1e-9 * start, "token 2: \(bounded[1])") }
        if momentum == 0.9 && chunkSize == 8 { #expect((errors(.chunkBounded(bound: 0.5)).max() ?? 0) > 100 * start) }
    }

    static func memory(chunkSize: Int = 2) -> NeuralMemory {
        var rng = RandomGenerator(seed: 4)
        let config = NeuralMemoryConfiguration(width: 4, heads: 2, headWidth: 2, memoryDepth: 2, hiddenExpansion: 2, convolutionKernel: 3,
                                               maxLearningRate: 0.9, stepRule: .momentumBounded(bound: 0.3), chunkSize: chunkSize)
        return NeuralMemory(config, dtype: .float64, generator: &rng)
    }

    /// μ goes from group to group when chunks are recomputed in groups in the backward pass: the reads are those of one
    /// pass, and the outer gradients pass finite differences either way.
    @Test func recomputedGroupsCarryTheBound() {
        let memory = Self.memory()
        let x = NeuralMemoryTests.input(time: 12)
        let whole = memory(x).0
        for grouped in [nil, 4] as [Int?] {
            let reads = MemoryUpdate.$recomputedGroupTokens.withValue(grouped) { memory(x).0 }
            #expect(MemoryUpdateTests.maxRelativeError(reads, whole) < 1e-12)
            let result = MemoryUpdate.$recomputedGroupTokens.withValue(grouped) {
                GradientCheck.first(parameters: memory.parameters()) { memory(x).0 }
            }
            #expect(result.passed, "groups of \(grouped.map(String.init) ?? "none"): \(result)")
        }
    }

    /// Streaming in pieces (the one-token step included) gives the outputs of one call: μ is carried across calls.
    @Test(arguments: [[1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1], [3, 8], [5, 1, 5]])
    func streamingInPiecesEqualsOneCall(pieces: [Int]) {
        let memory = Self.memory(chunkSize: 3)
        let x = NeuralMemoryTests.input(time: 11)
        #expect(MemoryUpdateTests.maxRelativeError(NeuralMemoryTests.streamed(memory, x, pieces: pieces).0, memory(x).0) < 1e-12)
    }
}
