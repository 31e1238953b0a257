import Foundation

/// Tokens per second of a language model at one sequence length, batch 1: a training step (forward, backward and an
/// AdamW step) and a forward pass, each the fastest of `repeats` timed runs after a warm-up, on random bytes. What
/// `titans bench scaling` and the efficiency study of `titans reproduce` measure (the paper's Figs. 8–9).
///
/// ```swift
/// let speed = ModelThroughput.measure(.standard(.mag), length: 2048)
/// print(speed.training, speed.forward)
/// ```
public enum ModelThroughput {
    public static func measure(_ configuration: ModelConfiguration, length: Int, repeats: Int = 1,
                               recompute: Bool = false) -> (training: Double, forward: Double) {
        var generator = RandomGenerator(seed: 0)
        let model = LanguageModel(configuration, generator: &generator)
        model.recomputesBlocks = recompute
        let tokens = IndexTensor(shape: [1, length], (0..<length).map { _ in Int(generator.next() % 256) })
        let optimizer = AdamW(model.namedParameters(), learningRate: 1e-4)
        let training = fastestSeconds(repeats: repeats) {
            model(tokens).logits.crossEntropy(targets: tokens).backward()
            optimizer.step()
            optimizer.zeroGradients()
        }
        let forward = fastestSeconds(repeats: repeats) { _ = withoutGradients { model(tokens) } }
        return (Double(length) / training, Double(length) / forward)
    }
}

/// Seconds of the fastest of `repeats` runs, after one warm-up.
public func fastestSeconds(repeats: Int, _ body: () throws -> Void) rethrows -> Double {
    try body()
    var result = Double.infinity
    for _ in 0..<max(repeats, 1) {
        let start = Date()
        try body()
        result = min(result, Date().timeIntervalSince(start))
    }
    return result
}
