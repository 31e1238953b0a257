/// The model-level half of the backend self-test (`titans selftest`): the memory's forms, a training step of every
/// architecture and baseline, streaming in pieces and greedy generation, each computed on the selected device as a list
/// of numbers, so that `BackendSelfTest.compare` (TitansTensor) can hold a GPU's run to the CPU's. The
/// models are small (width 32, 2 blocks), so the whole list runs in seconds.
///
/// ```swift
/// for modelCase in ModelSelfTest.cases(.float32) {
///     print(try BackendSelfTest.compare(modelCase.name, dtype: .float32, on: .cuda, modelCase.run))
/// }
/// ```
public enum ModelSelfTest {
    /// Every architecture and baseline by its command-line name, with its small configuration.
    static var configurations: [(String, ModelConfiguration)] {
        let memory = NeuralMemoryConfiguration(width: 32, heads: 2, memoryDepth: 2, chunkSize: 4)
        let titans = ModelConfiguration.Architecture.allCases.map { architecture in
            (architecture.commandLineName, ModelConfiguration(architecture: architecture, width: 32, layers: 2, heads: 2, window: 8,
                                                              segment: 8, persistentTokens: 2, memory: memory))
        }
        let baselines = RecurrentBaseline.allCases.map { baseline in
            (baseline.commandLineName, ModelConfiguration.recurrentBaseline(baseline, width: 32, layers: 2, heads: 2, chunkSize: 4))
        }
        return titans + baselines
    }

    /// How far a device's numbers may be from the CPU's, relative to max(1, |value|): a model's result has passed through
    /// hundreds of ops and, in the memory, through its own gradient steps, each rounding on its own (float64 shows the
    /// logic agrees to 10⁻⁹).
    public static func tolerance(_ dtype: DType) -> Double { dtype == .float32 ? 1e-3 : 1e-9 }

    public static func cases(_ dtype: DType) -> [BackendSelfTest.OperationCase] {
        var cases = memoryCases(dtype)
        let tokens = IndexTensor(shape: [2, 12], (0..<24).map { ($0 * 37 + 11) % 256 })
        for (name, configuration) in configurations {
            cases.append(BackendSelfTest.OperationCase(name: "\(name): training step (loss, gradients, AdamW)", dtype: dtype) {
                var rng = RandomGenerator(seed: 1)
                let model = LanguageModel(configuration, dtype: dtype, generator: &rng)
                let parameters = model.namedParameters()
                let loss = model(tokens).logits.crossEntropy(targets: tokens)
                let gradients = Tensor.gradients(of: loss, withRespectTo: parameters.map(\.tensor))
                for (parameter, gradient) in zip(parameters, gradients) { parameter.tensor.grad = gradient }
                AdamW(parameters, learningRate: 1e-2).step()
                // Adam's first step is about ±lr·sign(g): in float32 a gradient near zero can change sign with the order
                // of a sum, so the step is compared in float64 only.
                let stepped = dtype == .float64 ? parameters.flatMap { $0.tensor.toArray() } : []
                return loss.toArray() + gradients.flatMap { $0.toArray() } + stepped
            })
            cases.append(BackendSelfTest.OperationCase(name: "\(name): streamed in pieces", dtype: dtype) {
                var rng = RandomGenerator(seed: 2)
                let model = LanguageModel(configuration, dtype: dtype, generator: &rng)
                return withoutGradients {
                    let (first, state) = model(IndexTensor(shape: [2, 5], Array(tokens.values.prefix(5) + tokens.values[12..<17])))
                    let (rest, _) = model(IndexTensor(shape: [2, 7], Array(tokens.values[5..<12] + tokens.values[17..<24])), state: state)
                    return first.toArray() + rest.toArray()
                }
            })
            cases.append(BackendSelfTest.OperationCase(name: "\(name): greedy generation", dtype: dtype) {
                var rng = RandomGenerator(seed: 2)
                let model = LanguageModel(configuration, dtype: dtype, generator: &rng)
                let generated = try? model.generate(prompt: Array(tokens.values.prefix(6)), maxTokens: 10, sampler: Sampler(temperature: 0),
                                                    generator: &rng)
                return (generated ?? []).map(Double.init)
            })
        }
        return cases
    }

    /// The memory's forms on one sequence: the chunked (dual) form's reads with their gradients with respect to the
    /// input and every parameter (first order through the inner steps, which are themselves gradients), the
    /// one-token decoding form, and a sequence fed in pieces.
    static func memoryCases(_ dtype: DType) -> [BackendSelfTest.OperationCase] {
        func setting() -> (NeuralMemory, Tensor) {
            var rng = RandomGenerator(seed: 4)
            let memory = NeuralMemory(NeuralMemoryConfiguration(width: 16, heads: 2, memoryDepth: 2, chunkSize: 4), dtype: dtype, generator: &rng)
            return (memory, Tensor.randomNormal([2, 10, 16], dtype: dtype, generator: &rng))
        }
        return [
            BackendSelfTest.OperationCase(name: "memory: chunked form, reads and gradients", dtype: dtype) {
                let (memory, x) = setting()
                return BackendSelfTest.derivatives([x], secondOrder: false) { inputs in
                    let (reads, _) = memory(inputs[0])
                    return reads
                } + {
                    let (reads, _) = memory(x)
                    return Tensor.gradients(of: reads.squared().sum(), withRespectTo: memory.parameters()).flatMap { $0.toArray() }
                }()
            },
            BackendSelfTest.OperationCase(name: "memory: one token at a time (decoding form)", dtype: dtype) {
                let (memory, x) = setting()
                return withoutGradients {
                    var state: NeuralMemoryState?
                    var reads: [Double] = []
                    for t in 0..<x.shape[1] {
                        let (y, next) = memory(x.slice(axis: 1, start: t, end: t + 1), state: state)
                        reads += y.toArray()
                        state = next
                    }
                    return reads
                }
            },
            BackendSelfTest.OperationCase(name: "memory: a sequence in pieces of 3 and 7", dtype: dtype) {
                let (memory, x) = setting()
                return withoutGradients {
                    let (first, state) = memory(x.slice(axis: 1, start: 0, end: 3))
                    let (rest, _) = memory(x.slice(axis: 1, start: 3, end: 10), state: state)
                    return first.toArray() + rest.toArray()
                }
            },
        ]
    }
}
