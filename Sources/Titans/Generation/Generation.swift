import TitansNN

extension LanguageModel {
    /// Continues `prompt` by up to `maxTokens` tokens drawn with `sampler`, one batch row. The prompt goes through in
    /// one call; each new token then goes through alone with the carried state, so a token's cost does not grow with
    /// the length generated (the attention caches keep their window, the memory its chunk; Transformer++'s full
    /// attention is the exception). `onToken` sees each token as it is drawn and may return `false` to stop.
    ///
    /// - Returns: the generated tokens (the prompt excluded).
    @discardableResult
    public func generate(prompt: [Int], maxTokens: Int, sampler: Sampler, generator: inout RandomGenerator,
                         onToken: (Int) throws -> Bool = { _ in true }) rethrows -> [Int] {
        precondition(!prompt.isEmpty, "LanguageModel.generate: the prompt must hold at least one token")
        precondition(sampler.problem == nil, "LanguageModel.generate: \(sampler.problem ?? "")")
        let vocabulary = configuration.vocabularySize
        precondition(prompt.allSatisfy { (0..<vocabulary).contains($0) }, "LanguageModel.generate: prompt tokens outside 0..<\(vocabulary)")
        return try withoutGradients {
            var (logits, state) = self(IndexTensor(shape: [1, prompt.count], prompt))
            var generated: [Int] = []
            while generated.count < maxTokens {
                let last = logits.select(axis: 1, index: logits.shape[1] - 1).toArray()
                let token = sampler.sample(last, generator: &generator)
                generated.append(token)
                guard try onToken(token), generated.count < maxTokens else { break }
                (logits, state) = self(IndexTensor(shape: [1, 1], [token]), state: state)
            }
            return generated
        }
    }
}
