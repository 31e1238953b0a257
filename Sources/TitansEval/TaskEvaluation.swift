import Foundation

/// Exact-match accuracy on prompt–answer examples, by greedy decoding, grouped by any numeric field of the examples.
///
/// An answer counts when greedy decoding after the prompt reproduces it byte for byte. That is computed in one forward
/// pass over prompt and answer: greedy decoding writes the answer exactly if and only if every answer byte is the most
/// likely next byte after the bytes before it (by induction, each decoded byte then equals the answer's, so the next
/// input is the same). Examples of equal length are scored together, `batchSize` at a time, on all cores.
///
/// ```swift
/// let results = TaskEvaluation.correct(of: model, on: examples)                 // one Bool per example
/// for group in TaskEvaluation.accuracy(examples, results, by: "distance") { print(group.label, group.accuracy) }
/// ```
public enum TaskEvaluation {
    /// Whether greedy decoding answers each example exactly. Byte-level models only (vocabulary 256).
    public static func correct(of model: LanguageModel, on examples: [TaskExample], batchSize: Int = 8) -> [Bool] {
        var results = [Bool](repeating: false, count: examples.count)
        let byLength = Dictionary(grouping: examples.indices, by: { examples[$0].bytes.count })
        for (length, indices) in byLength.sorted(by: { $0.key < $1.key }) where length >= 2 {
            for start in stride(from: 0, to: indices.count, by: batchSize) {
                let batch = Array(indices[start..<min(indices.count, start + batchSize)])
                let inputs = batch.flatMap { examples[$0].bytes.dropLast().map(Int.init) }
                let logits = model.logits(IndexTensor(shape: [batch.count, length - 1], inputs))
                let predicted = logits.argmax(axis: -1).values  // [rows, length − 1]: the byte after each input
                for (row, index) in batch.enumerated() {
                    let example = examples[index]
                    // Answer byte j sits at position prompt.count + j and is predicted at the position before it.
                    results[index] = !example.prompt.isEmpty && example.answer.indices.allSatisfy { j in
                        predicted[row * (length - 1) + example.prompt.count + j - 1] == Int(example.answer[j])
                    }
                }
            }
        }
        return results
    }

    /// Whether greedy decoding answers each example exactly, for a model over `tokenizer`'s tokens: the prompt is
    /// encoded, then tokens are drawn greedily one at a time (with the carried state) until their bytes cover the
    /// answer or depart from it. Slower than the byte models' single pass, since a token's bytes cannot be known before
    /// it is drawn.
    public static func correct(of model: LanguageModel, tokenizer: Tokenizer, on examples: [TaskExample]) -> [Bool] {
        examples.map { example in
            let prompt = tokenizer.encode(bytes: example.prompt)
            guard !prompt.isEmpty, !example.answer.isEmpty else { return false }
            var written: [UInt8] = [], generator = RandomGenerator(seed: 0)
            do {
                // Every token is at least one byte, so as many tokens as answer bytes always suffice.
                try model.generate(prompt: prompt, maxTokens: example.answer.count, sampler: Sampler(temperature: 0),
                                   generator: &generator) { token in
                    written += try tokenizer.decode([token])
                    return written.count < example.answer.count && example.answer.starts(with: written)
                }
            } catch {
                return false  // non-finite logits: no answer
            }
            return written.count >= example.answer.count && written.prefix(example.answer.count).elementsEqual(example.answer)
        }
    }

    /// Accuracy of one group of examples.
    public struct Group: Sendable, Equatable {
        /// The field's value, or its range when values are binned.
        public var label: String
        public var correct: Int
        public var count: Int
        public var accuracy: Double { count == 0 ? 0 : Double(correct) / Double(count) }
    }

    /// `results` grouped by `field` (`nil`: one group of all): one group per value when there are at most `bins`
    /// distinct values, otherwise `bins` ranges of equal width; examples without the field form a group "none".
    public static func accuracy(_ examples: [TaskExample], _ results: [Bool], by field: String?, bins: Int = 8) -> [Group] {
        guard let field else { return [Group(label: "all", correct: results.filter { $0 }.count, count: results.count)] }
        let values = examples.compactMap { $0.fields[field] }
        let distinct = Set(values).sorted()
        let (low, high) = (distinct.first ?? 0, distinct.last ?? 0)
        /// Whole numbers as they are, large ones rounded (bin edges of distances in bytes), small fractions to 3 digits.
        func format(_ v: Double) -> String {
            (v == v.rounded() || abs(v) >= 100) && abs(v) < 1e15 ? String(Int(v.rounded())) : String(format: "%.3g", v)
        }
        func key(_ v: Double) -> Int {
            distinct.count <= bins ? distinct.firstIndex(of: v) ?? 0 : min(bins - 1, Int((v - low) / (high - low) * Double(bins)))
        }
        func label(_ k: Int) -> String {
            if distinct.count <= bins { return format(distinct[k]) }
            let width = (high - low) / Double(bins)
            return "\(format(low + Double(k) * width))–\(format(low + Double(k + 1) * width))"
        }
        var groups: [Int: Group] = [:]
        for (example, result) in zip(examples, results) {
            let k = example.fields[field].map(key) ?? Int.max
            var group = groups[k] ?? Group(label: k == Int.max ? "none" : label(k), correct: 0, count: 0)
            group.count += 1
            group.correct += result ? 1 : 0
            groups[k] = group
        }
        return groups.sorted { $0.key < $1.key }.map(\.value)
    }
}
