import Foundation
import Testing
@testable import Titans

/// Form 5, the exact delta rule in blocks (`MemoryUpdate+DeltaRule.swift`), held to form 1, the online rule written
/// literally with autodiff gradients.
struct ExactDeltaRuleTests {
    typealias Setup = MemoryUpdateTests.Setup

    /// A matrix memory without momentum (the only memory exact steps take), `length` tokens.
    static func setup(forgetting: Bool, length: Int, seed: UInt64 = 3) -> Setup {
        MemoryUpdateTests.setup(depth: 1, momentum: false, forgetting: forgetting, length: length, seed: seed)
    }

    static func exact(_ s: Setup, blockSize: Int, atRetained: Bool = false) -> (Tensor, MemoryState) {
        let (reads, cursor) = MemoryUpdate.exactDeltaRule(s.stream, MemoryCursor(start: s.state), blockSize: blockSize,
                                                          atRetained: atRetained)
        return (reads, cursor.memory)
    }

    /// Reads and the final memory equal the online reference to 1e-10 (float64) for every block size, including
    /// blocks that do not divide the length, one-token blocks and a block longer than the stream; with forgetting, for
    /// each error at M_{t−1} (Eq. 13) and at the retained memory (Gated DeltaNet's order).
    @Test(arguments: zip([false, true, true], [false, false, true]))
    func equalsTheOnlineRule(forgetting: Bool, atRetained: Bool) {
        let s = Self.setup(forgetting: forgetting, length: 20)
        let online = MemoryUpdate.sequential(s.mlp, s.stream, s.state, atRetained: atRetained)
        for blockSize in [1, 2, 3, 7, 16, 32] {
            MemoryUpdateTests.expectEqual(Self.exact(s, blockSize: blockSize, atRetained: atRetained), online, tolerance: 1e-10)
        }
    }

    /// The chunk-start form is a different rule: at chunks of 4 it differs from the online rule on these inputs, and
    /// the two orders of forgetting and error differ from each other, so the test above could fail.
    @Test func theChunkStartFormAndTheOtherOrderDiffer() {
        let s = Self.setup(forgetting: true, length: 20)
        let online = MemoryUpdate.sequential(s.mlp, s.stream, s.state)
        #expect(MemoryUpdateTests.maxRelativeError(MemoryUpdateTests.chunked(s, chunkSize: 4).0, online.0) > 1e-3)
        let atRetained = MemoryUpdate.sequential(s.mlp, s.stream, s.state, atRetained: true)
        #expect(MemoryUpdateTests.maxRelativeError(atRetained.0, online.0) > 1e-3)
        #expect(MemoryUpdateTests.maxRelativeError(Self.exact(s, blockSize: 4).0, atRetained.0) > 1e-3)
    }

    /// The outer gradients (to queries, keys, values, learning rates, retention and the initial memory) through the
    /// exact form equal those through the online reference, with and without recomputed groups, in either order.
    @Test(arguments: zip([false, true, true], [false, false, true]))
    func outerGradientsEqualTheOnlineRule(forgetting: Bool, atRetained: Bool) {
        let s = Self.setup(forgetting: forgetting, length: 12)
        var rng = RandomGenerator(seed: 9)
        let probe = Tensor.randomNormal(s.stream.keys.shape, dtype: .float64, generator: &rng)
        func gradients(_ form: (Setup) -> (Tensor, MemoryState)) -> [Tensor] {
            let inputs = [s.stream.queries, s.stream.keys, s.stream.values, s.stream.learningRate]
                + (s.stream.logRetention.map { [$0] } ?? []) + s.state.weights
            let leaves = inputs.map { $0.detach().requiringGrad() }
            let stream = MemoryStream(queries: leaves[0], keys: leaves[1], values: leaves[2], learningRate: leaves[3],
                                      logMomentum: nil, logRetention: forgetting ? leaves[4] : nil)
            let (reads, end) = form(Setup(mlp: s.mlp, stream: stream,
                                          state: MemoryState(weights: [leaves.last!], surprise: s.state.surprise)))
            let loss = (reads * probe).sum() + end.weights[0].squared().sum()
            return Tensor.gradients(of: loss, withRespectTo: leaves)
        }
        let reference = gradients { MemoryUpdate.sequential($0.mlp, $0.stream, $0.state, atRetained: atRetained) }
        for grouped in [nil, 8] as [Int?] {
            let exact = MemoryUpdate.$recomputedGroupTokens.withValue(grouped) {
                gradients { Self.exact($0, blockSize: 4, atRetained: atRetained) }
            }
            for (a, b) in zip(exact, reference) { #expect(MemoryUpdateTests.maxRelativeError(a, b) < 1e-9) }
        }
    }

    /// (I + L)⁻¹ B by the series equals forward substitution, for every size up to 20 (powers of two and between).
    @Test func theSeriesSolvesUnitLowerSystems() {
        var rng = RandomGenerator(seed: 5)
        for n in 1...20 {
            let l = Tensor.randomNormal([2, n, n], standardDeviation: 0.5, dtype: .float64, generator: &rng).lowerTriangle(diagonal: -1)
            let b = Tensor.randomNormal([2, n, 3], dtype: .float64, generator: &rng)
            let (lv, bv) = (l.toArray(), b.toArray())
            var x = [Double](repeating: 0, count: 2 * n * 3)
            for batch in 0..<2 {
                for row in 0..<n {
                    for column in 0..<3 {
                        var sum = bv[(batch * n + row) * 3 + column]
                        for k in 0..<row { sum -= lv[(batch * n + row) * n + k] * x[(batch * n + k) * 3 + column] }
                        x[(batch * n + row) * 3 + column] = sum
                    }
                }
            }
            let solved = MemoryUpdate.solveUnitLower(l, b)
            #expect(MemoryUpdateTests.maxRelativeError(solved, Tensor(shape: [2, n, 3], x, dtype: .float64)) < 1e-12, "n = \(n)")
        }
    }

    /// Why the baselines take exact steps: sixteen aligned keys per chunk with full steps (β = 1) make the chunk-start
    /// form's step 16 times too large, and it diverges; the exact rule projects each key out in turn and stays bounded
    /// (float32, 2,048 tokens, blocks of 16).
    @Test func alignedKeysStayBounded() {
        var rng = RandomGenerator(seed: 2)
        let (b, h, d, t) = (1, 1, 4, 2_048)
        let direction = Tensor.randomNormal([1, 1, 1, d], generator: &rng)
        let noise = Tensor.randomNormal([b, h, t, d], standardDeviation: 0.05, generator: &rng)
        let keys = (direction.expand(to: [b, h, t, d]) + noise).l2Normalized()
        let stream = MemoryStream(queries: keys, keys: keys, values: Tensor.randomNormal([b, h, t, d], generator: &rng),
                                  learningRate: Tensor.full([b, h, t], value: 0.5), logMomentum: nil, logRetention: nil)
        let s = Setup(mlp: MemoryMLP(depth: 1, activation: .silu, shortcut: false, residualNorm: false, loss: .squaredError),
                      stream: stream, state: MemoryState(zerosLike: [Tensor.zeros([1, h, d, d])]))
        let exact = Self.exact(s, blockSize: 16)
        #expect(exact.0.abs().max().item() < 10)
        let chunkStart = MemoryUpdateTests.chunked(s, chunkSize: 16).0.abs().max().item()
        #expect(!(chunkStart < 10))  // NaN or huge
    }

    /// Exact steps are refused for any memory they do not cover, and the gradient at the retained memory without
    /// them; a configuration saved before they existed reads without them (its chunks took their steps at their starts)
    /// and one without them is written as before; the DeltaNet presets take exact steps, Gated DeltaNet its order.
    @Test func configurations() throws {
        var exact = RecurrentBaseline.deltaNet.memory(width: 8, heads: 2, chunkSize: 4)
        #expect(exact.exactSteps && !exact.gradientAtRetainedMemory && exact.problem == nil)
        var gated = RecurrentBaseline.gatedDeltaNet.memory(width: 8, heads: 2, chunkSize: 4)
        #expect(gated.exactSteps && gated.gradientAtRetainedMemory && gated.problem == nil)
        let gatedObject = try #require(try JSONSerialization.jsonObject(with: try JSONEncoder().encode(gated)) as? [String: Any])
        #expect(gatedObject["gradientAtRetainedMemory"] as? Bool == true)
        gated.exactSteps = false
        #expect(gated.problem != nil)
        for other in [RecurrentBaseline.tttMLP, .linearAttention, .gatedLinearAttention] {
            #expect(!other.memory(width: 8, heads: 2, chunkSize: 4).exactSteps, "\(other)")
        }
        let unsupported: [(inout NeuralMemoryConfiguration) -> Void] = [
            { $0.memoryDepth = 2 }, { $0.momentum = true }, { $0.stepRule = .chunkBounded(bound: 0.5) },
            { $0.innerLoss = .huber(delta: 1) }, { $0.residualNorm = true },
        ]
        for change in unsupported {
            var config = exact
            change(&config)
            #expect(config.problem != nil, "\(config)")
        }
        let data = try JSONEncoder().encode(exact)
        #expect(try JSONDecoder().decode(NeuralMemoryConfiguration.self, from: data) == exact)
        var object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        object["exactSteps"] = nil
        exact.exactSteps = false
        let text = String(decoding: try JSONEncoder().encode(exact), as: UTF8.self)
        #expect(!text.contains("exactSteps") && !text.contains("gradientAtRetainedMemory"))
        #expect(try JSONDecoder().decode(NeuralMemoryConfiguration.self, from: try JSONSerialization.data(withJSONObject: object)) == exact)
    }

    /// A layer with exact steps streams: fed in pieces of 1, 5, 2 and 9 tokens against blocks of 4 it gives one call's
    /// outputs (pieces start and end inside blocks; single tokens take the one-token step, or at the retained memory
    /// a block of one).
    @Test(arguments: [RecurrentBaseline.deltaNet, .gatedDeltaNet])
    func theLayerStreamsInPieces(_ baseline: RecurrentBaseline) {
        var rng = RandomGenerator(seed: 8)
        var configuration = baseline.memory(width: 8, heads: 2, chunkSize: 4)
        configuration.forgetting = true  // so the order matters
        let memory = NeuralMemory(configuration, dtype: .float64, generator: &rng)
        let x = Tensor.randomNormal([2, 17, 8], dtype: .float64, generator: &rng)
        let whole = withoutGradients { memory(x).0 }
        var (state, start, pieces) = (NeuralMemoryState?.none, 0, [Tensor]())
        for n in [1, 5, 2, 9] {
            let (y, next) = withoutGradients { memory(x.slice(axis: 1, start: start, end: start + n), state: state) }
            (state, start) = (next, start + n)
            pieces.append(y)
        }
        #expect(MemoryUpdateTests.maxRelativeError(Tensor.concatenate(pieces, axis: 1), whole) < 1e-10)
    }
}
