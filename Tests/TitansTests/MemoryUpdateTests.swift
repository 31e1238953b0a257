import Testing
@testable import Titans

/// The forms of the memory update held equal (paper §3.1–3.2; Sources/Titans/Memory/README.md).
struct MemoryUpdateTests {
    struct Setup {
        let mlp: MemoryMLP
        let stream: MemoryStream
        let state: MemoryState
    }

    /// Random float64 inputs: B = 2 sequences, H = 2 heads, T tokens, head width 3, hidden width 6.
    static func setup(depth: Int, momentum: Bool, forgetting: Bool, length: Int = 7, seed: UInt64 = 1,
                      activation: NeuralMemoryConfiguration.Activation = .silu, shortcut: Bool = false, residualNorm: Bool = false,
                      loss: InnerLoss = .squaredError) -> Setup {
        var rng = RandomGenerator(seed: seed)
        func normal(_ shape: [Int], _ scale: Double = 1) -> Tensor {
            Tensor.randomNormal(shape, standardDeviation: scale, dtype: .float64, generator: &rng)
        }
        let (b, h, d) = (2, 2, 3)
        let widths = (0..<depth).map { l in (l == 0 ? d : 2 * d, l == depth - 1 ? d : 2 * d) } + (shortcut ? [(d, d)] : [])
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
        return Setup(mlp: MemoryMLP(depth: depth, activation: activation, shortcut: shortcut, residualNorm: residualNorm, loss: loss),
                     stream: stream,
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

    /// Every step rule, with parameters that bind on these inputs.
    static let rules: [StepRule] = [.plain, .layerNormalized, .curvatureNormalized, .gradientClipped(maxNorm: 0.5), .chunkMean,
                                    .chunkBounded(bound: 0.3), .momentumBounded(bound: 0.3), .carryBounded(bound: 0.3)]

    /// The chunked form from a chunk boundary, as (reads, memory).
    static func chunked(_ s: Setup, chunkSize: Int, rule: StepRule = .plain) -> (Tensor, MemoryState) {
        let (reads, cursor) = MemoryUpdate.chunked(s.mlp, s.stream, MemoryCursor(start: s.state), chunkSize: chunkSize, rule: rule)
        return (reads, cursor.memory)
    }

    static func miniBatch(_ s: Setup, chunkSize: Int, rule: StepRule = .plain) -> (Tensor, MemoryState) {
        let (reads, cursor) = MemoryUpdate.miniBatch(s.mlp, s.stream, s.state, chunkSize: chunkSize, rule: rule)
        return (reads, cursor.memory)
    }

    /// `form` fed the stream in pieces of `pieces` tokens, each continuing the cursor the last left.
    static func inPieces(_ s: Setup, _ pieces: [Int], chunkSize: Int, rule: StepRule,
                         form: (MemoryMLP, MemoryStream, MemoryCursor, Int, StepRule) -> (Tensor, MemoryCursor)) -> (Tensor, MemoryState) {
        var cursor = MemoryCursor(start: s.state)
        var reads: [Tensor] = []
        var start = 0
        for n in pieces {
            let read: Tensor
            (read, cursor) = form(s.mlp, s.stream.slice(start..<(start + n)), cursor, chunkSize, rule)
            reads.append(read)
            start += n
        }
        return (Tensor.concatenate(reads, axis: 2), cursor.memory)
    }

    /// Form 3 equals form 2 to 1e-6 relative, for every depth, with momentum and forgetting on and off,
    /// with a last chunk shorter than the others.
    @Test(arguments: cases)
    func chunkedEqualsMiniBatch(depth: Int, momentum: Bool, forgetting: Bool) {
        let s = Self.setup(depth: depth, momentum: momentum, forgetting: forgetting)
        for chunkSize in [2, 3, 7] {
            Self.expectEqual(Self.chunked(s, chunkSize: chunkSize), Self.miniBatch(s, chunkSize: chunkSize), tolerance: 1e-6)
        }
    }

    /// With b = 1 all three forms are the exact online rule and agree to rounding.
    @Test(arguments: cases)
    func allFormsAgreeAtChunkSizeOne(depth: Int, momentum: Bool, forgetting: Bool) {
        let s = Self.setup(depth: depth, momentum: momentum, forgetting: forgetting, length: 5)
        let sequential = MemoryUpdate.sequential(s.mlp, s.stream, s.state)
        Self.expectEqual(Self.miniBatch(s, chunkSize: 1), sequential, tolerance: 1e-12)
        Self.expectEqual(Self.chunked(s, chunkSize: 1), sequential, tolerance: 1e-12)
    }

    /// Every step rule keeps the forms equal: chunked = mini-batch (chunks of 3 over 7 tokens), the one-token step =
    /// mini-batch, and at b = 1 everything = the online reference; for depths 1 and 2 with momentum and forgetting on,
    /// and the matrix memory with them off.
    @Test(arguments: rules)
    func everyStepRuleKeepsTheFormsEqual(rule: StepRule) {
        for (depth, on) in [(1, true), (2, true), (1, false)] {
            let s = Self.setup(depth: depth, momentum: on, forgetting: on)
            let reference = Self.miniBatch(s, chunkSize: 3, rule: rule)
            Self.expectEqual(Self.chunked(s, chunkSize: 3, rule: rule), reference, tolerance: 1e-6)
            Self.expectEqual(Self.inPieces(s, [7], chunkSize: 3, rule: rule, form: MemoryUpdate.recurrent), reference, tolerance: 1e-9)
            let online = MemoryUpdate.sequential(s.mlp, s.stream, s.state, rule: rule)
            Self.expectEqual(Self.miniBatch(s, chunkSize: 1, rule: rule), online, tolerance: 1e-12)
            Self.expectEqual(Self.chunked(s, chunkSize: 1, rule: rule), online, tolerance: 1e-12)
        }
    }

    /// A chunk continued across calls part-way through (pieces of 1, 2, 4 tokens against chunks of 3) gives what one
    /// call gives, in the chunked form and in the one-token step, for every rule (the chunk bound keeps its steps apart).
    @Test(arguments: rules)
    func chunksContinueAcrossCalls(rule: StepRule) {
        let s = Self.setup(depth: 2, momentum: true, forgetting: true)
        let reference = Self.miniBatch(s, chunkSize: 3, rule: rule)
        for pieces in [[1, 2, 4], [2, 2, 2, 1], [4, 3], [1, 1, 1, 1, 1, 1, 1]] {
            Self.expectEqual(Self.inPieces(s, pieces, chunkSize: 3, rule: rule, form: MemoryUpdate.chunked), reference, tolerance: 1e-6)
            Self.expectEqual(Self.inPieces(s, pieces, chunkSize: 3, rule: rule, form: MemoryUpdate.recurrent), reference, tolerance: 1e-9)
        }
    }

    /// The forms continue each other's cursors (a prompt read in chunks, then decoding, then chunks again), for every
    /// rule: the one-token step's factored steps and carried scalars are formed when the chunked form takes over, part-way
    /// through a chunk or at its end; with and without the residual wrapper's gain.
    @Test(arguments: rules)
    func formsContinueEachOther(rule: StepRule) {
        for residualNorm in [false, true] {
            let s = Self.setup(depth: 2, momentum: true, forgetting: true, length: 9, residualNorm: residualNorm)
            Self.expectEqual(Self.alternatingForms(s, rule: rule), Self.miniBatch(s, chunkSize: 3, rule: rule), tolerance: 1e-6)
        }
    }

    /// Nine tokens in chunks of 3 through the chunked form and the one-token step in turn (2, 2, 1, 3 and 1 tokens), each
    /// continuing the cursor the other left part-way through a chunk or at its end: the reads and the memory after.
    static func alternatingForms(_ s: Setup, rule: StepRule) -> (Tensor, MemoryState) {
        var cursor = MemoryCursor(start: s.state)
        var reads: [Tensor] = []
        var start = 0
        for (n, chunked) in [(2, true), (2, false), (1, true), (3, false), (1, true)] {
            let form = chunked ? MemoryUpdate.chunked : MemoryUpdate.recurrent
            let read: Tensor
            (read, cursor) = form(s.mlp, s.stream.slice(start..<(start + n)), cursor, 3, rule)
            reads.append(read)
            start += n
        }
        return (Tensor.concatenate(reads, axis: 2), cursor.memory)
    }

    /// The LayerNorm-residual wrapper, whose gain the inner loop updates too, in every setting.
    @Test(arguments: cases)
    func residualNormMemoryAgrees(depth: Int, momentum: Bool, forgetting: Bool) {
        let s = Self.setup(depth: depth, momentum: momentum, forgetting: forgetting, residualNorm: true)
        Self.expectEqual(Self.chunked(s, chunkSize: 3), Self.miniBatch(s, chunkSize: 3), tolerance: 1e-6)
        // LayerNorm's backward divides by each row's standard deviation, which magnifies rounding: at depth 2 with
        // momentum and forgetting the two orders of summation differ by 1.05e-12 of the surprise's largest entry with
        // the built-in matmul and 1.76e-12 with OpenBLAS's matrix–vector product, about 5,000–8,000 ulps.
        Self.expectEqual(Self.chunked(s, chunkSize: 1), MemoryUpdate.sequential(s.mlp, s.stream, s.state), tolerance: 1e-11)
        Self.expectEqual(Self.chunked(s, chunkSize: 3, rule: .chunkBounded(bound: 0.3)),
                         Self.miniBatch(s, chunkSize: 3, rule: .chunkBounded(bound: 0.3)), tolerance: 1e-6)
    }

    /// A deep memory with the linear shortcut beside it, in every setting and with the residual wrapper around it.
    @Test(arguments: cases.filter { $0.0 >= 2 })
    func shortcutMemoryAgrees(depth: Int, momentum: Bool, forgetting: Bool) {
        for residualNorm in [false, true] {
            let s = Self.setup(depth: depth, momentum: momentum, forgetting: forgetting, shortcut: true, residualNorm: residualNorm)
            for rule in [StepRule.plain, .chunkBounded(bound: 0.3)] {
                let reference = Self.miniBatch(s, chunkSize: 3, rule: rule)
                Self.expectEqual(Self.chunked(s, chunkSize: 3, rule: rule), reference, tolerance: 1e-6)
                Self.expectEqual(Self.inPieces(s, [2, 1, 4], chunkSize: 3, rule: rule, form: MemoryUpdate.recurrent), reference, tolerance: 1e-9)
                Self.expectEqual(Self.chunked(s, chunkSize: 1, rule: rule), MemoryUpdate.sequential(s.mlp, s.stream, s.state, rule: rule),
                                 tolerance: 1e-12)
            }
        }
    }

    /// Every inner objective besides the squared error, with parameters that bind on these inputs.
    static let losses: [InnerLoss] = [.dotProduct, .lp(p: 3), .huber(delta: 0.4)]

    /// Every inner objective keeps the forms equal, in every setting: the closed-form gradient of the read that the
    /// fast forms use against the engine's gradient of the loss in the references, with the plain rule and the chunk
    /// bound, and the one-token step; and each objective changes what the squared error gives.
    @Test(arguments: losses, cases)
    func everyInnerLossKeepsTheFormsEqual(loss: InnerLoss, setting: (Int, Bool, Bool)) {
        let (depth, momentum, forgetting) = setting
        let s = Self.setup(depth: depth, momentum: momentum, forgetting: forgetting, loss: loss)
        // Rounding compounds through ℓp's |e|^(p−1): at depth 3 with p = 3 the two orders differ by 1.3e-12 of the
        // largest read (about 6,000 ulps).
        Self.expectEqual(Self.chunked(s, chunkSize: 1), MemoryUpdate.sequential(s.mlp, s.stream, s.state), tolerance: 1e-11)
        for rule in [StepRule.plain, .chunkBounded(bound: 0.3)] {
            let reference = Self.miniBatch(s, chunkSize: 3, rule: rule)
            Self.expectEqual(Self.chunked(s, chunkSize: 3, rule: rule), reference, tolerance: 1e-6)
            Self.expectEqual(Self.inPieces(s, [2, 4, 1], chunkSize: 3, rule: rule, form: MemoryUpdate.recurrent), reference, tolerance: 1e-9)
        }
        let squared = Self.setup(depth: depth, momentum: momentum, forgetting: forgetting)
        #expect(Self.maxRelativeError(Self.miniBatch(s, chunkSize: 3).0, Self.miniBatch(squared, chunkSize: 3).0) > 1e-4,
                "\(loss) changes nothing here")
    }

    @Test func geluMemoryAlsoAgrees() {
        let s = Self.setup(depth: 2, momentum: true, forgetting: true, activation: .gelu)
        Self.expectEqual(Self.chunked(s, chunkSize: 3), Self.miniBatch(s, chunkSize: 3), tolerance: 1e-6)
    }

    /// Larger chunks take staler gradients: the mini-batch form must differ from the online rule when b > 1
    /// (so the equalities above are not vacuous); and each rule must change the plain rule's result on these inputs.
    @Test func miniBatchDiffersFromOnlineForLargerChunks() {
        let s = Self.setup(depth: 2, momentum: true, forgetting: true)
        let online = MemoryUpdate.sequential(s.mlp, s.stream, s.state)
        let batched = Self.miniBatch(s, chunkSize: 4)
        #expect(Self.maxRelativeError(batched.0, online.0) > 1e-4)
        for rule in Self.rules.dropFirst() {
            #expect(Self.maxRelativeError(Self.miniBatch(s, chunkSize: 3, rule: rule).0, Self.miniBatch(s, chunkSize: 3).0) > 1e-4,
                    "\(rule) changes nothing here")
        }
    }
}
