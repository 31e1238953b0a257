import Foundation
import TitansNN

/// How the next token is drawn from a model's logits: temperature, then top-k, then top-p (nucleus) truncation, then
/// a draw from the renormalised distribution. Temperature 0 takes the most likely token (greedy).
///
/// ```swift
/// let sampler = Sampler(temperature: 0.8, topK: 0, topP: 0.95)
/// let bytes = try model.generate(prompt: prompt, maxTokens: 100, sampler: sampler, generator: &rng)
/// ```
public struct Sampler: Sendable, Equatable {
    /// Divides the logits; 0 means greedy.
    public var temperature: Double
    /// Keep only the `topK` most likely tokens (0: all).
    public var topK: Int
    /// Keep the fewest most likely tokens whose probabilities add up to at least `topP` (1: all).
    public var topP: Double

    public init(temperature: Double = 1, topK: Int = 0, topP: Double = 1) {
        self.temperature = temperature
        self.topK = topK
        self.topP = topP
    }

    /// Why these settings cannot sample, or `nil`.
    public var problem: String? {
        if !(temperature >= 0) || !temperature.isFinite { return "temperature must be 0 (greedy) or positive, not \(temperature)" }
        if topK < 0 { return "top-k must be 0 (off) or positive, not \(topK)" }
        if !(topP > 0 && topP <= 1) { return "top-p must be in (0, 1], not \(topP)" }
        return nil
    }

    /// The distribution the next token is drawn from (zeros outside the kept tokens), for `logits` of one position,
    /// which must be finite (``LanguageModel/generate(prompt:maxTokens:sampler:generator:onToken:)`` checks them).
    public func probabilities(_ logits: [Double]) -> [Double] {
        precondition(!logits.isEmpty, "Sampler: no logits")
        precondition(logits.allSatisfy(\.isFinite), "Sampler: the logits must be finite")
        if temperature == 0 {
            let best = logits.indices.max { logits[$0] < logits[$1] || (logits[$0] == logits[$1] && $0 > $1) }!
            return logits.indices.map { $0 == best ? 1 : 0 }
        }
        let largest = logits.max()!
        var weights = logits.map { exp(($0 - largest) / temperature) }
        // Most likely first; ties keep the lower token first, so truncation is deterministic.
        let order = weights.indices.sorted { weights[$0] > weights[$1] || (weights[$0] == weights[$1] && $0 < $1) }
        var kept = topK > 0 ? min(topK, order.count) : order.count
        if topP < 1 {
            let total = order.prefix(kept).reduce(0) { $0 + weights[$1] }
            var cumulative = 0.0
            for (rank, token) in order.prefix(kept).enumerated() {
                cumulative += weights[token]
                if cumulative >= topP * total { kept = rank + 1; break }
            }
        }
        for token in order.dropFirst(kept) { weights[token] = 0 }
        let total = weights.reduce(0, +)
        return weights.map { $0 / total }
    }

    /// Draws a token from ``probabilities(_:)``.
    public func sample(_ logits: [Double], generator: inout RandomGenerator) -> Int {
        let p = probabilities(logits)
        let u = Double(generator.next() >> 11) / Double(UInt64(1) << 53)  // uniform in [0, 1)
        var cumulative = 0.0
        for (token, probability) in p.enumerated() where probability > 0 {
            cumulative += probability
            if u < cumulative { return token }
        }
        return p.lastIndex { $0 > 0 }!  // rounding left u above the last cumulative sum
    }
}
