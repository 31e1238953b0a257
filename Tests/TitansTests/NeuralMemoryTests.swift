import Testing
@testable import Titans

/// The NeuralMemory module: outer gradients through the inner updates, streaming, causality.
struct NeuralMemoryTests {
    static func tiny(chunkSize: Int = 2, depth: Int = 2, kernel: Int = 3, momentum: Bool = true, forgetting: Bool = true,
                     residualNorm: Bool = false, heads: Int = 2, rule: StepRule = NeuralMemoryConfiguration.defaultStepRule,
                     loss: InnerLoss = .squaredError, seed: UInt64 = 3) -> NeuralMemory {
        var rng = RandomGenerator(seed: seed)
        let config = NeuralMemoryConfiguration(width: 4, heads: heads, headWidth: 4 / heads, memoryDepth: depth, hiddenExpansion: 2,
                                               residualNorm: residualNorm, innerLoss: loss, convolutionKernel: kernel, maxLearningRate: 0.5, momentum: momentum,
                                               forgetting: forgetting, stepRule: rule, chunkSize: chunkSize)
        return NeuralMemory(config, dtype: .float64, generator: &rng)
    }

    static func input(batch: Int = 2, time: Int, seed: UInt64 = 9) -> Tensor {
        var rng = RandomGenerator(seed: seed)
        return Tensor.randomNormal([batch, time, 4], dtype: .float64, generator: &rng)
    }

    /// The outer loss differentiates through the inner updates into W_Q, W_K, W_V, the gates, the convolutions, M₀
    /// and the output path: finite differences in float64 on L = 2, b = 2, three chunks, momentum and forgetting on.
    @Test func outerGradientsThroughTheInnerUpdates() {
        let memory = Self.tiny()
        let x = Self.input(time: 6)
        let names = memory.namedParameters().map(\.name)
        #expect(names.contains("query.weight") && names.contains("keyConvolution.weight") && names.contains("initialMemory.1")
                && names.contains("momentumGate.weight") && names.contains("forgettingGate.bias") && names.contains("learningRateGate.weight"))
        let result = GradientCheck.first(parameters: memory.parameters()) { memory(x).0 }
        #expect(result.passed, "\(result)")
    }

    /// Finite differences in float64 of the outer gradients of `memory` on six tokens. The carry bound's alignment is a
    /// constant of the outer gradient: it is held at its values while each parameter is perturbed
    /// (``GradientSizes/heldAlignment``); the other rules have none.
    static func expectOuterGradients(_ memory: NeuralMemory, _ label: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let result = outerGradientCheck(memory, holdingAlignment: true)
        #expect(result.passed, "\(label): \(result)", sourceLocation: sourceLocation)
    }

    /// The finite-difference check of `memory`'s outer gradients on six tokens, the carry bound's alignment held at its
    /// values or not.
    static func outerGradientCheck(_ memory: NeuralMemory, holdingAlignment: Bool) -> GradientCheck.Result {
        let x = input(time: 6)
        guard holdingAlignment else { return GradientCheck.first(parameters: memory.parameters()) { memory(x).0 } }
        let held = HeldAlignment()
        return GradientSizes.$heldAlignment.withValue(held) {
            _ = memory(x)  // records what every chunk computes
            return GradientCheck.first(parameters: memory.parameters()) {
                held.rewind()
                return memory(x).0
            }
        }
    }

    /// The carry bound's outer gradient leaves its alignment out: with the alignment left to vary, the differences and
    /// the gradient part (so it is indeed held out, as the tests above assume).
    @Test func carryBoundHoldsItsAlignmentOutOfTheGradient() {
        let memory = Self.tiny(rule: .carryBounded(bound: 0.3))
        #expect(!Self.outerGradientCheck(memory, holdingAlignment: false).passed)
        #expect(Self.outerGradientCheck(memory, holdingAlignment: true).passed)
    }

    /// The outer loss differentiates through every step rule (θ up to 0.5, chunks of 2).
    @Test(arguments: MemoryUpdateTests.rules)
    func outerGradientsThroughEveryStepRule(rule: StepRule) {
        Self.expectOuterGradients(Self.tiny(rule: rule), "\(rule)")
    }

    /// The outer loss differentiates through every inner objective.
    @Test(arguments: MemoryUpdateTests.losses)
    func outerGradientsThroughEveryInnerLoss(loss: InnerLoss) {
        Self.expectOuterGradients(Self.tiny(loss: loss), "\(loss)")
    }

    /// The same with the LayerNorm-residual wrapper, whose initial gain is a parameter too. One head of width 4:
    /// a LayerNorm over two numbers is ±1 almost everywhere, a near-step whose finite differences mean little.
    @Test func outerGradientsWithTheResidualWrapper() {
        let memory = Self.tiny(residualNorm: true, heads: 1)
        #expect(memory.namedParameters().map(\.name).contains("initialMemory.2"))
        let x = Self.input(time: 6)
        let result = GradientCheck.first(parameters: memory.parameters()) { memory(x).0 }
        #expect(result.passed, "\(result)")
    }

    /// The same with respect to the input (which flows into keys, values, queries and all three gates).
    @Test func gradientWithRespectToTheInput() {
        let memory = Self.tiny()
        let result = GradientCheck.first(inputs: [Self.input(time: 5)]) { memory($0[0]).0 }
        #expect(result.passed, "\(result)")
    }

    /// Feeding a sequence in pieces of any sizes gives the outputs of one call.
    @Test(arguments: [[1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1], [3, 8], [5, 1, 5], [2, 2, 7], [11], [4, 3, 4]])
    func streamingInPiecesEqualsOneCall(pieces: [Int]) {
        let memory = Self.tiny(chunkSize: 4)
        let x = Self.input(time: 11)
        let whole = memory(x).0
        let (streamed, state) = Self.streamed(memory, x, pieces: pieces)
        let error = zip(streamed.toArray(), whole.toArray()).map { Swift.abs($0 - $1) }.max()!
        #expect(error < 1e-12, "max difference \(error)")
        #expect(state?.tokensInChunk == 11 % 4)
    }

    /// The same under every step rule, in pieces that continue chunks part-way (the one-token step between): a rule
    /// must not depend on which positive multiple of the chunk's start surprise a form carries (the carry bound's guard
    /// as a sum, √(‖u‖²‖S‖² + ε), missed by 3–7·10⁻¹² here).
    @Test(arguments: MemoryUpdateTests.rules)
    func streamingInPiecesUnderEveryStepRule(rule: StepRule) {
        let memory = Self.tiny(chunkSize: 4, rule: rule)
        let x = Self.input(time: 11)
        let whole = memory(x).0
        for pieces in [[5, 1, 5], [4, 3, 4]] {
            let error = zip(Self.streamed(memory, x, pieces: pieces).0.toArray(), whole.toArray()).map { Swift.abs($0 - $1) }.max()!
            #expect(error < 1e-12, "\(pieces): max difference \(error)")
        }
    }

    /// `x` fed to `memory` in pieces of `pieces` tokens, each call continuing the state the last left: the outputs
    /// joined, and the state after.
    static func streamed(_ memory: NeuralMemory, _ x: Tensor, pieces: [Int]) -> (Tensor, NeuralMemoryState?) {
        var state: NeuralMemoryState? = nil
        var outputs: [Tensor] = []
        var start = 0
        for n in pieces {
            let (y, next) = memory(x.slice(axis: 1, start: start, end: start + n), state: state)
            outputs.append(y)
            state = next
            start += n
        }
        return (Tensor.concatenate(outputs, axis: 1), state)
    }

    /// Random splits, many of them, against one call.
    @Test func streamingWithRandomSplits() {
        let memory = Self.tiny(chunkSize: 3, kernel: 4)
        let x = Self.input(time: 20)
        let whole = memory(x).0.toArray()
        var rng = RandomGenerator(seed: 77)
        for _ in 0..<5 {
            var state: NeuralMemoryState? = nil
            var outputs: [Tensor] = []
            var start = 0
            while start < 20 {
                let n = min(20 - start, 1 + Int(rng.next() % 6))
                let (y, next) = memory(x.slice(axis: 1, start: start, end: start + n), state: state)
                outputs.append(y)
                state = next
                start += n
            }
            let streamed = Tensor.concatenate(outputs, axis: 1).toArray()
            #expect(zip(streamed, whole).allSatisfy { Swift.abs($0 - $1) < 1e-12 })
        }
    }

    /// Changing tokens after position t leaves the outputs at positions ≤ t unchanged, bit for bit.
    @Test(arguments: [1, 2, 5])
    func causal(chunkSize: Int) {
        let memory = Self.tiny(chunkSize: chunkSize)
        let x = Self.input(time: 9)
        let y = memory(x).0
        for t in [0, 3, 6] {
            var values = x.toArray()
            for b in 0..<2 { for s in (t + 1)..<9 { for d in 0..<4 { values[(b * 9 + s) * 4 + d] += 1 } } }
            let changed = memory(Tensor(shape: x.shape, values, dtype: .float64)).0
            let before = y.slice(axis: 1, start: 0, end: t + 1).toArray()
            let after = changed.slice(axis: 1, start: 0, end: t + 1).toArray()
            #expect(before == after, "outputs up to \(t) changed")
            #expect(y.slice(axis: 1, start: t + 1, end: 9).toArray() != changed.slice(axis: 1, start: t + 1, end: 9).toArray())
        }
    }

    /// A fresh memory forgets about `initialForgetting` per token (the gate's bias); every depth has one default inner
    /// learning rate and the momentum-bound step rule.
    @Test func initialGates() {
        var rng = RandomGenerator(seed: 4)
        let config = NeuralMemoryConfiguration(width: 8, heads: 2, memoryDepth: 1, initialForgetting: 0.01, chunkSize: 2)
        let memory = NeuralMemory(config, dtype: .float64, generator: &rng)
        let forgetting = memory.forgettingGate!(Tensor.zeros([1, 8], dtype: .float64)).sigmoid().toArray()
        #expect(forgetting.allSatisfy { Swift.abs($0 - 0.01) < 1e-12 }, "\(forgetting)")
        #expect(config.maxLearningRate == 0.1 && NeuralMemoryConfiguration(width: 8, memoryDepth: 4).maxLearningRate == 0.1)
        #expect(config.stepRule == .momentumBounded(bound: 0.5))
        #expect(NeuralMemoryConfiguration(width: 8, memoryDepth: 3, maxLearningRate: 0.5).maxLearningRate == 0.5)
        for bad in [0.0, 1.0, -0.1] {
            #expect(NeuralMemoryConfiguration(width: 8, initialForgetting: bad).problem != nil)
        }
    }
}
