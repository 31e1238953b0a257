import Testing
@testable import Titans

/// The fused one-token step (plain loops, float32, decoding on the CPU) against the op path it replaces, in float64.
struct FusedRecurrentTests {
    typealias Setup = MemoryUpdateTests.Setup

    /// The setup's tensors in float32.
    static func float32(_ s: Setup) -> Setup { converted(s, to: .float32) }

    /// The setup's tensors in `dtype`.
    static func converted(_ s: Setup, to dtype: DType) -> Setup {
        let t = s.stream
        var mlp = s.mlp
        mlp.anchor = s.mlp.anchor.map { ForgettingAnchor(weights: $0.weights.map { $0.to(dtype) }) }
        return Setup(mlp: mlp,
                     stream: MemoryStream(queries: t.queries.to(dtype), keys: t.keys.to(dtype), values: t.values.to(dtype),
                                          learningRate: t.learningRate.to(dtype), logMomentum: t.logMomentum?.to(dtype),
                                          logRetention: t.logRetention?.to(dtype)),
                     state: MemoryState(weights: s.state.weights.map { $0.to(dtype) }, surprise: s.state.surprise.map { $0.to(dtype) }))
    }

    /// The stream's first `prefix` tokens through the chunked form, then one token at a time through the op path
    /// (`fused` false) or the fused step, which must apply at every token; the reads and the memory after.
    static func tokenByToken(_ s: Setup, prefix: Int, chunkSize: Int, rule: StepRule, fused: Bool,
                             sourceLocation: SourceLocation = #_sourceLocation) -> (Tensor, MemoryState) {
        var cursor = MemoryCursor(start: s.state)
        var reads: [Tensor] = []
        if prefix > 0 {
            let read: Tensor
            (read, cursor) = MemoryUpdate.chunked(s.mlp, s.stream.slice(0..<prefix), cursor, chunkSize: chunkSize, rule: rule)
            reads.append(read)
        }
        for t in prefix..<s.stream.length {
            let token = s.stream.slice(t..<(t + 1))
            let step = fused ? MemoryUpdate.fusedRecurrent(s.mlp, token, cursor, chunkSize: chunkSize, rule: rule)
                : MemoryUpdate.recurrent(s.mlp, token, cursor, chunkSize: chunkSize, rule: rule)
            guard let (read, next) = step else {
                Issue.record("the fused step did not apply at token \(t)", sourceLocation: sourceLocation)
                break
            }
            reads.append(read)
            cursor = next
        }
        return (Tensor.concatenate(reads, axis: 2), cursor.memory)
    }

    /// The largest relative difference of two results (reads, final weights, final surprise).
    static func largestError(_ a: (Tensor, MemoryState), _ b: (Tensor, MemoryState)) -> Double {
        let pairs = [(a.0, b.0)] + Array(zip(a.1.weights, b.1.weights)) + Array(zip(a.1.surprise, b.1.surprise))
        return pairs.map { MemoryUpdateTests.maxRelativeError($0, $1) }.max() ?? 0
    }

    /// The fused step (float32) against the op path in float64 (on the same float32 inputs), for each number of tokens
    /// the chunked form reads first (`prefixes`): within 1e-4 of the largest value, or — where float32 itself is further
    /// off than that (per-layer rates dividing by a small input's norm, through the residual wrapper's normalisation over
    /// 3 features) — no further from float64 at its worst than the op path in float32 is at its worst over the same
    /// prefixes (gradients recorded, so the op path runs alone). Worst against worst: there an ulp moves either path's
    /// error by a factor of ten, and which of the two is closer at a given prefix flips (GELU through a new erf
    /// within 2.5 ulp: fused 1.4e-4 and 2.5e-5 at prefixes 0 and 2, the op path 1.8e-5 and 4.3e-4; with libm's erf
    /// and the reference on the float64 inputs, 1.7e-4 and 1.7e-4 against 3.3e-4 and 2.9e-4).
    static func expectFusedMatches(_ s: Setup, prefixes: [Int], chunkSize: Int, rule: StepRule,
                                   sourceLocation: SourceLocation = #_sourceLocation) {
        let single = converted(s, to: .float32), rounded = converted(single, to: .float64)
        let references = prefixes.map { tokenByToken(rounded, prefix: $0, chunkSize: chunkSize, rule: rule, fused: false) }
        let errors = zip(prefixes, references).map { prefix, reference in
            let fused = withoutGradients { tokenByToken(single, prefix: prefix, chunkSize: chunkSize, rule: rule, fused: true) }
            #expect(fused.0.shape == reference.0.shape, sourceLocation: sourceLocation)
            return largestError(fused, reference)
        }
        let worst = errors.max() ?? 0
        guard worst > 1e-4 else { return }
        let opPath = zip(prefixes, references).map { prefix, reference in
            largestError(GradMode.with(enabled: true) {
                tokenByToken(single, prefix: prefix, chunkSize: chunkSize, rule: rule, fused: false)
            }, reference)
        }
        #expect(worst <= opPath.max() ?? 0, "fused \(errors) from float64 at prefixes \(prefixes), the op path \(opPath)",
                sourceLocation: sourceLocation)
    }

    /// Every step rule; memories of depth 1–3 with and without the shortcut, both activations, every inner loss, momentum
    /// and forgetting on and off, with and without the residual wrapper (TTT-MLP's); 9 tokens in chunks of 4 from a
    /// chunk boundary and from part-way through a chunk that the chunked form left (its earlier steps apart under a
    /// chunk bound). Reads and final memory to 1e-4 of the largest, float32 against float64 (``expectFusedMatches``).
    @Test(arguments: MemoryUpdateTests.rules)
    func fusedStepEqualsTheOpPath(rule: StepRule) {
        let variants: [(depth: Int, shortcut: Bool, activation: NeuralMemoryConfiguration.Activation, loss: InnerLoss, momentum: Bool,
                        forgetting: Bool, residual: Bool)] = [
            (1, false, .silu, .squaredError, true, true, false), (2, true, .silu, .squaredError, true, true, false),
            (3, false, .gelu, .huber(delta: 0.5), true, false, false), (2, false, .silu, .dotProduct, false, true, false),
            (2, true, .gelu, .lp(p: 3), false, false, false),
            (2, false, .gelu, .squaredError, true, true, true), (1, false, .silu, .lp(p: 3), false, true, true),
            (3, true, .silu, .huber(delta: 0.5), true, false, true),
        ]
        for v in variants {
            let s = MemoryUpdateTests.setup(depth: v.depth, momentum: v.momentum, forgetting: v.forgetting, length: 9,
                                            activation: v.activation, shortcut: v.shortcut, residualNorm: v.residual, loss: v.loss)
            Self.expectFusedMatches(s, prefixes: [0, 2], chunkSize: 4, rule: rule)
        }
    }

    /// The fused read of fixed weights (MAC's retrieval) equals the memory model called on them, with weights shared by
    /// the sequences and one set per sequence; depths 1–3, with and without the shortcut, both activations.
    @Test func fusedReadEqualsTheMemoryModel() {
        var rng = RandomGenerator(seed: 9)
        let variants: [(Int, Bool, NeuralMemoryConfiguration.Activation)] = [(1, false, .silu), (2, true, .silu), (3, false, .gelu)]
        for (depth, shortcut, activation) in variants {
            let s = MemoryUpdateTests.setup(depth: depth, momentum: true, forgetting: true, length: 1, activation: activation,
                                            shortcut: shortcut)
            let perSequence = s.state.weights.map { w in
                w + Tensor.randomNormal([2] + Array(w.shape.dropFirst()), standardDeviation: 0.2, dtype: .float64, generator: &rng)
            }
            for weights in [s.state.weights, perSequence] {
                let reference = s.mlp(weights, s.stream.queries)
                let fused = withoutGradients {
                    MemoryUpdate.fusedRead(s.mlp, weights.map { $0.to(.float32) }, s.stream.queries.to(.float32))
                }
                guard let fused else {
                    Issue.record("the fused read did not apply")
                    continue
                }
                #expect(MemoryUpdateTests.maxRelativeError(fused, reference) <= 1e-5, "depth \(depth)")
            }
        }
    }

    /// A whole memory layer decoding one token at a time in float32 — the fused way in (convolutions from their kept
    /// inputs, SiLU, ℓ2 norms, gates), the fused step and the output's gated norm — gives the outputs of the op path in
    /// float64, every parameter moved off its initial value: from an empty stream (histories shorter than the kernel)
    /// and after a prompt taken by the chunked form; for the standard layer, one without convolutions, momentum and
    /// forgetting, and TTT-MLP's (the residual wrapper, GELU).
    @Test func decodingLayerEqualsTheOpPath() {
        var plain = NeuralMemoryConfiguration(width: 16, heads: 2, chunkSize: 4)
        (plain.convolutionKernel, plain.momentum, plain.forgetting) = (0, false, false)
        var wrapped = NeuralMemoryConfiguration(width: 16, heads: 2, chunkSize: 4)
        (wrapped.residualNorm, wrapped.activation, wrapped.hiddenExpansion) = (true, .gelu, 4)
        for config in [NeuralMemoryConfiguration(width: 16, heads: 2, chunkSize: 4), plain, wrapped] {
            var rng = RandomGenerator(seed: 3)
            let reference = NeuralMemory(config, dtype: .float64, generator: &rng)
            let fused = NeuralMemory(config, dtype: .float32, generator: &rng)
            let (ours, theirs) = (fused.namedParameters(), reference.namedParameters())
            #expect(ours.map(\.name) == theirs.map(\.name))
            for (a, b) in zip(ours, theirs) {  // moved off their initial values (norm weights of one, zero biases) first
                b.tensor.assign(b.tensor + Tensor.randomNormal(b.tensor.shape, standardDeviation: 0.1, dtype: .float64, generator: &rng))
                a.tensor.assign(b.tensor)
            }
            let x = Tensor.randomNormal([2, 11, 16], dtype: .float64, generator: &rng)
            for prompt in [0, 3] {
                func decode(_ memory: NeuralMemory, _ x: Tensor) -> Tensor {
                    var state: NeuralMemoryState? = nil
                    var outputs: [Tensor] = []
                    if prompt > 0 {
                        let (y, next) = memory(x.slice(axis: 1, start: 0, end: prompt))
                        (outputs, state) = ([y], next)
                    }
                    for t in prompt..<x.shape[1] {
                        let (y, next) = memory(x.slice(axis: 1, start: t, end: t + 1), state: state)
                        (state, outputs) = (next, outputs + [y])
                    }
                    return Tensor.concatenate(outputs, axis: 1)
                }
                let expected = withoutGradients { decode(reference, x) }, got = withoutGradients { decode(fused, x.to(.float32)) }
                #expect(MemoryUpdateTests.maxRelativeError(got, expected) <= 1e-4, "prompt \(prompt), kernel \(config.convolutionKernel)")
            }
        }
    }

    /// The fused step stands aside where it does not apply: gradients recorded, float64; the residual wrapper takes it.
    @Test func fusedStepOnlyWhereItApplies() {
        let s = MemoryUpdateTests.setup(depth: 2, momentum: true, forgetting: true)
        let token = Self.float32(s).stream.slice(0..<1), start = MemoryCursor(start: Self.float32(s).state)
        #expect(withoutGradients { MemoryUpdate.fusedRecurrent(s.mlp, token, start, chunkSize: 4, rule: .plain) } != nil)
        #expect(GradMode.with(enabled: true) { MemoryUpdate.fusedRecurrent(s.mlp, token, start, chunkSize: 4, rule: .plain) } == nil)
        #expect(withoutGradients {
            MemoryUpdate.fusedRecurrent(s.mlp, s.stream.slice(0..<1), MemoryCursor(start: s.state), chunkSize: 4, rule: .plain)
        } == nil)
        let wrapped = Self.float32(MemoryUpdateTests.setup(depth: 2, momentum: true, forgetting: true, residualNorm: true))
        #expect(withoutGradients {
            MemoryUpdate.fusedRecurrent(wrapped.mlp, wrapped.stream.slice(0..<1), MemoryCursor(start: wrapped.state), chunkSize: 4, rule: .plain)
        } != nil)
    }
}
