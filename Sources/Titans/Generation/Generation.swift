import TitansNN

extension LanguageModel {
    /// Continues `prompt` by up to `maxTokens` tokens drawn with `sampler`, one batch row. The prompt goes through in
    /// one call; each new token then goes through alone with the carried state, so a token's cost does not grow with
    /// the length generated (the attention caches keep their window, the memory its chunk; Transformer++'s full
    /// attention is the exception). `onToken` sees each token as it is drawn and may return `false` to stop.
    ///
    /// - Returns: the generated tokens (the prompt excluded).
    /// - Throws: ``GenerationError/nonFiniteLogits(position:)`` when the model's logits are not finite (damaged or
    ///   diverged weights), or what `onToken` throws.
    @discardableResult
    public func generate(prompt: [Int], maxTokens: Int, sampler: Sampler, generator: inout RandomGenerator,
                         onToken: (Int) throws -> Bool = { _ in true }) throws -> [Int] {
        precondition(!prompt.isEmpty, "LanguageModel.generate: the prompt must hold at least one token")
        precondition(sampler.problem == nil, "LanguageModel.generate: \(sampler.problem ?? "")")
        let vocabulary = configuration.vocabularySize
        precondition(prompt.allSatisfy { (0..<vocabulary).contains($0) }, "LanguageModel.generate: prompt tokens outside 0..<\(vocabulary)")
        return try withoutGradients {
            var (logits, state) = self(IndexTensor(shape: [1, prompt.count], prompt))
            var generated: [Int] = []
            while generated.count < maxTokens {
                let last = logits.select(axis: 1, index: logits.shape[1] - 1).toArray()
                guard last.allSatisfy(\.isFinite) else { throw GenerationError.nonFiniteLogits(position: prompt.count + generated.count) }
                let token = sampler.sample(last, generator: &generator)
                generated.append(token)
                guard try onToken(token), generated.count < maxTokens else { break }
                (logits, state) = self(IndexTensor(shape: [1, 1], [token]), state: state)
            }
            return generated
        }
    }
}

/// Why generation stopped before it was done.
///
/// ```swift
/// do { _ = try model.generate(prompt: prompt, maxTokens: 10, sampler: Sampler(), generator: &rng) }
/// catch let error as GenerationError { print(error) }   // a diverged memory, or damaged weights
/// ```
public enum GenerationError: Error, CustomStringConvertible, Equatable {
    /// The logits at a position (counted from the prompt's first token) held NaN or infinity.
    case nonFiniteLogits(position: Int)

    public var description: String {
        switch self {
        case .nonFiniteLogits(let position):
            return "the model's predictions at position \(position) are not finite numbers (NaN or infinity): its memory diverged "
                + "on the text read so far (momentum can carry a memory's steps past stability on long runs of repeated bytes, "
                + "README \"Deep memories that do not diverge\"), or its weights are damaged or training diverged; try a shorter or more "
                + "varied text, or an earlier checkpoint"
        }
    }
}
