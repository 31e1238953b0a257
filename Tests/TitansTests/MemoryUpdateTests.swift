import Testing
@testable import Titans

/// The three forms of the memory update held equal (paper §3.1–3.2, notes §3.B).
struct MemoryUpdateTests {
    struct Setup {
        let mlp: MemoryMLP
        let stream: MemoryStream
        let state: MemoryState
    }

    /// Random float64 inputs: B = 2 sequences, H = 2 heads, T tokens, head width 3, hidden width 6.
    static func setup(depth: Int, momentum: Bool, forgetting: Bool, length: Int = 7, seed: UInt64 = 1,
                      activation: NeuralMemoryConfiguration.Activation = .silu, residualNorm: Bool = false,
                      loss: NeuralMemoryConfiguration.InnerLoss = .squaredError) -> Setup {
        var rng = RandomGenerator(seed: seed)
        func normal(_ shape: [Int], _ scale: Double = 1) -> Tensor {
            Tensor.randomNormal(shape, standardDeviation: scale, dtype: .float64, generator: &rng)
        }
        let (b, h, d) = (2, 2, 3)
        let widths = (0..<depth).map { l in (l == 0 ? d : 2 * d, l == depth - 1 ? d : 2 * d) }
        // With the residual wrapper the gain γ `[1, H, 1, d]` is the last tensor of the memory.
        let shapes = widths.map { [1, h, $0.0, $0.1] } + (residualNorm ? [[1, h, 1, d]] : [])
        let weights = shapes.map { normal($0, 0.5) }
        let surprise = shapes.map { momentum ? normal($0, 0.1) : Tensor.zeros($0, dtype: .float64) }
        let stream = MemoryStream(
            queries: normal([b, h, length, d]).l2Normalized(), keys: normal([b, h, length, d]).l2Normalized(),
            values: normal([b, h, length, d]),
            learningRate: normal([b, h, length]).sigmoid() * 0.4,
            logMomentum: momentum ? -(-normal([b, h, length])).softplus() : nil,  // log sigmoid
            logRetention: forgetting ? -(normal([b, h, length]) - 2).softplus() : nil)
        return Setup(mlp: MemoryMLP(depth: depth, activation: activation, residualNorm: residualNorm, loss: loss), stream: stream,
                     state: MemoryState(weights: weights, surprise: surprise))
    }

    static func maxRelativeError(_ a: Tensor, _ b: Tensor) -> Double {
        let x = a.toArray(), y = b.toArray()
        precondition(x.count == y.count)
        let scale = max(y.map { Swift.abs($0) }.max() ?? 1, 1e-12)
        return zip(x, y).map { Swift.abs($0 - $1) }.max().map { $0 / scale } ?? 0
    }

    static func expectEqual(_ a: (Tensor, MemoryState), _ b: (Tensor, MemoryState), tolerance: Double,
                            sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(a.0.shape == b.0.shape, sourceLocation: sourceLocation)
        #expect(maxRelativeError(a.0, b.0) <= tolerance, "reads differ", sourceLocation: sourceLocation)
        for (x, y) in zip(a.1.weights, b.1.weights) {
            #expect(maxRelativeError(x, y) <= tolerance, "final weights differ", sourceLocation: sourceLocation)
        }
        for (x, y) in zip(a.1.surprise, b.1.surprise) {
            #expect(maxRelativeError(x, y) <= tolerance, "final surprise differs", sourceLocation: sourceLocation)
        }
    }

    static let cases: [(Int, Bool, Bool)] = [1, 2, 3].flatMap { depth in
        [(true, true), (false, true), (true, false), (false, false)].map { (depth, $0.0, $0.1) }
    }

    /// Form 3 equals form 2 to 1e-6 relative, for every depth, with momentum and forgetting on and off,
    /// with a last chunk shorter than the others.
    @Test(arguments: cases)
    func chunkedEqualsMiniBatch(depth: Int, momentum: Bool, forgetting: Bool) {
        let s = Self.setup(depth: depth, momentum: momentum, forgetting: forgetting)
        for chunkSize in [2, 3, 7] {
            Self.expectEqual(MemoryUpdate.chunked(s.mlp, s.stream, s.state, chunkSize: chunkSize),
                             MemoryUpdate.miniBatch(s.mlp, s.stream, s.state, chunkSize: chunkSize), tolerance: 1e-6)
        }
    }

    /// With b = 1 all three forms are the exact online rule and agree to rounding.
    @Test(arguments: cases)
    func allFormsAgreeAtChunkSizeOne(depth: Int, momentum: Bool, forgetting: Bool) {
        let s = Self.setup(depth: depth, momentum: momentum, forgetting: forgetting, length: 5)
        let sequential = MemoryUpdate.sequential(s.mlp, s.stream, s.state)
        Self.expectEqual(MemoryUpdate.miniBatch(s.mlp, s.stream, s.state, chunkSize: 1), sequential, tolerance: 1e-12)
        Self.expectEqual(MemoryUpdate.chunked(s.mlp, s.stream, s.state, chunkSize: 1), sequential, tolerance: 1e-12)
    }

    /// The LayerNorm-residual wrapper, whose gain the inner loop updates too, in every setting.
    @Test(arguments: cases)
    func residualNormMemoryAgrees(depth: Int, momentum: Bool, forgetting: Bool) {
        let s = Self.setup(depth: depth, momentum: momentum, forgetting: forgetting, residualNorm: true)
        Self.expectEqual(MemoryUpdate.chunked(s.mlp, s.stream, s.state, chunkSize: 3),
                         MemoryUpdate.miniBatch(s.mlp, s.stream, s.state, chunkSize: 3), tolerance: 1e-6)
        Self.expectEqual(MemoryUpdate.chunked(s.mlp, s.stream, s.state, chunkSize: 1),
                         MemoryUpdate.sequential(s.mlp, s.stream, s.state), tolerance: 1e-12)
    }

    /// The dot-product inner loss −⟨M(k), v⟩ in every setting.
    @Test(arguments: cases)
    func dotProductLossAgrees(depth: Int, momentum: Bool, forgetting: Bool) {
        let s = Self.setup(depth: depth, momentum: momentum, forgetting: forgetting, loss: .dotProduct)
        Self.expectEqual(MemoryUpdate.chunked(s.mlp, s.stream, s.state, chunkSize: 3),
                         MemoryUpdate.miniBatch(s.mlp, s.stream, s.state, chunkSize: 3), tolerance: 1e-6)
        Self.expectEqual(MemoryUpdate.chunked(s.mlp, s.stream, s.state, chunkSize: 1),
                         MemoryUpdate.sequential(s.mlp, s.stream, s.state), tolerance: 1e-12)
    }

    @Test func geluMemoryAlsoAgrees() {
        let s = Self.setup(depth: 2, momentum: true, forgetting: true, activation: .gelu)
        Self.expectEqual(MemoryUpdate.chunked(s.mlp, s.stream, s.state, chunkSize: 3),
                         MemoryUpdate.miniBatch(s.mlp, s.stream, s.state, chunkSize: 3), tolerance: 1e-6)
    }

    /// Larger chunks take staler gradients: the mini-batch form must differ from the online rule when b > 1
    /// (so the equalities above are not vacuous).
    @Test func miniBatchDiffersFromOnlineForLargerChunks() {
        let s = Self.setup(depth: 2, momentum: true, forgetting: true)
        let online = MemoryUpdate.sequential(s.mlp, s.stream, s.state)
        let batched = MemoryUpdate.miniBatch(s.mlp, s.stream, s.state, chunkSize: 4)
        #expect(Self.maxRelativeError(batched.0, online.0) > 1e-4)
    }
}
