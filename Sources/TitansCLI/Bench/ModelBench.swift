import ArgumentParser
import Foundation
import TitansTraining

/// `titans bench models`: parameters, training, forward and generation speed of every variant and baseline.
struct ModelBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "models",
        abstract: "Parameters and tokens/s (training step, forward, generation) of every Titans variant and baseline.",
        discussion: "Training = forward, backward and an AdamW step on random bytes; generation = one byte at a time "
            + "with the carried state after a prompt. Defaults: width 256, 4 layers, window and segment 64."
    )

    @OptionGroup var model: ModelOptions
    @Option(help: "Sequence length.") var sequence = 512
    @Option(help: "Batch size.") var batch = 4
    @Option(help: "Timed repetitions (the fastest counts, after a warm-up).") var repeats = 2
    @Option(help: "Prompt length before generation.") var prompt = 64
    @Option(help: "Bytes generated per timing.") var generate = 128
    @Option(help: "Comma-separated architectures (default: all).") var only: String?
    @Option(help: "Comma-separated figures to measure: train, forward, generate (default: all).") var measure = "train,forward,generate"

    @OptionGroup var computeDevice: DeviceOption

    func run() throws {
        try computeDevice.apply()
        guard model.architecture == nil else { throw ValidationError("pick architectures with --only, not --architecture") }
        guard sequence >= 1, batch >= 1, prompt >= 1, generate >= 1 else {
            throw ValidationError("--sequence, --batch, --prompt and --generate must be positive")
        }
        let figures = Set(measure.split(separator: ",").map(String.init))
        guard !figures.isEmpty, figures.isSubset(of: ["train", "forward", "generate"]) else {
            throw ValidationError("--measure takes train, forward and generate, comma-separated")
        }
        let names = only.map { $0.split(separator: ",").map(String.init) } ?? ModelOptions.names
        if let unknown = names.first(where: { !ModelOptions.names.contains($0) }) {
            throw ValidationError("--only takes architectures from \(ModelOptions.names.joined(separator: ", ")), not \(unknown)")
        }
        let configurations = try names.map { ($0, try model.configuration(architecture: $0)) }  // every name checked first
        print("batch \(batch) × sequence \(sequence); generation: \(generate) bytes after a \(prompt)-byte prompt; "
              + "matmul: \(BLAS.backendName)")
        /// One line of the table: the model's name in 24 columns, each figure in 16.
        func row(_ cells: [String]) -> String {
            cells.enumerated().map { $1.padding(toLength: $0 == 0 ? 24 : 16, withPad: " ", startingAt: 0) }.joined()
        }
        let peak = Self.sgemmPeak()
        print(String(format: "model FLOPs: matrix products, 2·m·n·k each; MFU = FLOPs/token × tokens/s ÷ this machine's "
                     + "sgemm peak, measured now at 1024³: %.0f GFLOP/s", peak / 1e9))
        print(row(["model", "parameters", "train tok/s", "forward tok/s", "generate tok/s", "train MFLOP/tok", "MFU train",
                   "MFU forward"]))
        var rng = RandomGenerator(seed: 0)
        for (name, config) in configurations {
            let lm = LanguageModel(config, generator: &rng)
            let tokens = IndexTensor(shape: [batch, sequence], (0..<(batch * sequence)).map { _ in Int(rng.next() % 256) })
            let optimizer = AdamW(lm.namedParameters(), learningRate: 1e-4)
            let count = Double(batch * sequence)
            let train = !figures.contains("train") ? .nan : try fastestSeconds(repeats: repeats) {
                // As the trainer does: the batch's halves side by side on the cores.
                let loss = lm.accumulateGradients(on: TrainingBatch(inputs: tokens, targets: tokens), scale: 1)
                guard loss.isFinite else { throw CommandError("\(name): the loss is not finite") }
                optimizer.step()
                optimizer.zeroGradients()
            }
            let forward = !figures.contains("forward") ? .nan : fastestSeconds(repeats: repeats) { _ = lm.logits(tokens) }
            let start = Array(tokens.values.prefix(prompt))
            var sampling = RandomGenerator(seed: 1)
            var generation = Double.nan
            if figures.contains("generate") {
                generation = 0
                _ = try fastestSeconds(repeats: repeats) {
                    var first: Date?
                    try lm.generate(prompt: start, maxTokens: generate + 1, sampler: Sampler(temperature: 0), generator: &sampling) { _ in
                        if first == nil { first = Date() }  // timing starts after the prompt and the first byte
                        return true
                    }
                    if let first { generation = max(generation, Double(generate) / Date().timeIntervalSince(first)) }  // the fastest run
                }
            }
            // FLOPs of one training step (forward and backward) and of one forward pass, per token, counted untimed.
            let trainFLOPs = Double(FLOPCount.counting { lm(tokens).logits.crossEntropy(targets: tokens).backward() }) / count
            optimizer.zeroGradients()
            let forwardFLOPs = Double(FLOPCount.counting { _ = withoutGradients { lm(tokens) } }) / count
            /// A rate as a whole number, "-" when not measured.
            func figure(_ rate: Double) -> String { rate.isNaN ? "-" : String(Int(rate)) }
            func utilisation(_ flops: Double, _ seconds: Double) -> String {
                seconds.isNaN ? "-" : String(format: "%.1f%%", 100 * flops * count / seconds / peak)
            }
            print(row([name, String(lm.parameterCount), figure(count / train), figure(count / forward), figure(generation),
                       String(format: "%.1f", trainFLOPs / 1e6), utilisation(trainFLOPs, train), utilisation(forwardFLOPs, forward)]))
        }
    }

    /// This machine's float32 matrix-product rate (FLOP/s): the best of five 1024³ products through the BLAS directly.
    static func sgemmPeak() -> Double {
        let n = 1024
        var rng = RandomGenerator(seed: 2)
        let a = Tensor.randomNormal([n, n], generator: &rng), b = Tensor.randomNormal([n, n], generator: &rng)
        let c = Tensor.zeros([n, n])
        let seconds = fastestSeconds(repeats: 5) { rawGEMM(a, b, c) }
        return 2 * Double(n * n * n) / seconds
    }
}
