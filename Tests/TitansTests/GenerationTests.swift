import Foundation
import Testing
@testable import Titans

struct SamplerTests {
    static let logits = [1.0, 3.0, 2.0, -1.0, 2.5, 0.0]

    static func softmax(_ x: [Double], temperature: Double = 1) -> [Double] {
        let e = x.map { exp($0 / temperature) }
        let s = e.reduce(0, +)
        return e.map { $0 / s }
    }

    @Test func temperatureZeroIsGreedy() {
        var rng = RandomGenerator(seed: 1)
        let sampler = Sampler(temperature: 0)
        #expect(sampler.probabilities(Self.logits) == [0, 1, 0, 0, 0, 0])
        #expect((0..<20).allSatisfy { _ in sampler.sample(Self.logits, generator: &rng) == 1 })
    }

    @Test func temperatureScalesTheSoftmax() {
        for t in [0.5, 1, 2] {
            let p = Sampler(temperature: t).probabilities(Self.logits)
            let q = Self.softmax(Self.logits, temperature: t)
            #expect(zip(p, q).allSatisfy { Swift.abs($0 - $1) < 1e-12 })
        }
    }

    /// Top-k keeps the k most likely tokens; top-p the fewest whose mass reaches p; both renormalise.
    @Test func truncation() {
        let full = Self.softmax(Self.logits)  // order by probability: 1, 4, 2, 0, 5, 3
        let k2 = Sampler(topK: 2).probabilities(Self.logits)
        #expect(k2.indices.filter { k2[$0] > 0 } == [1, 4])
        #expect(Swift.abs(k2[1] - full[1] / (full[1] + full[4])) < 1e-12)
        let mass = full[1] + full[4]
        let pExact = Sampler(topP: mass - 1e-9).probabilities(Self.logits)
        #expect(pExact.indices.filter { pExact[$0] > 0 } == [1, 4])
        let pMore = Sampler(topP: mass + 1e-6).probabilities(Self.logits)
        #expect(pMore.indices.filter { pMore[$0] > 0 } == [1, 2, 4])
        let both = Sampler(topK: 3, topP: 0.999).probabilities(Self.logits)
        #expect(both.indices.filter { both[$0] > 0 } == [1, 2, 4])
        for p in [k2, pExact, pMore, both] { #expect(Swift.abs(p.reduce(0, +) - 1) < 1e-12) }
    }

    /// Draws follow the distribution: frequencies over 40,000 seeded draws within 0.01 of the probabilities.
    @Test func drawsFollowTheProbabilities() {
        let sampler = Sampler(temperature: 1.3, topK: 4)
        let p = sampler.probabilities(Self.logits)
        var rng = RandomGenerator(seed: 11)
        var counts = [Int](repeating: 0, count: p.count)
        for _ in 0..<40_000 { counts[sampler.sample(Self.logits, generator: &rng)] += 1 }
        for (c, q) in zip(counts, p) { #expect(Swift.abs(Double(c) / 40_000 - q) < 0.01, "\(counts) vs \(p)") }
        #expect(counts[3] == 0 && counts[5] == 0)  // outside the top 4
    }

    @Test func settingsAreChecked() {
        #expect(Sampler().problem == nil)
        #expect(Sampler(temperature: -1).problem != nil)
        #expect(Sampler(topK: -2).problem != nil)
        #expect(Sampler(topP: 0).problem != nil && Sampler(topP: 1.5).problem != nil)
    }
}

struct GenerationTests {
    /// Greedy generation token by token gives the tokens that full forward passes over the growing text pick: the
    /// streamed logits are the full pass's logits, for every architecture and every recurrent baseline.
    @Test(arguments: ModelConfiguration.Architecture.allCases.map { Optional($0) } + [nil])
    func greedyGenerationMatchesFullForward(_ architecture: ModelConfiguration.Architecture?) throws {
        let model: LanguageModel
        if let architecture {
            model = LanguageModelTests.tiny(architecture)
        } else {
            var rng = RandomGenerator(seed: 2)
            model = LanguageModel(ModelConfiguration.recurrentBaseline(.gatedDeltaNet, vocabularySize: 11, width: 8, layers: 2,
                                                                      heads: 2, chunkSize: 2), dtype: .float64, generator: &rng)
        }
        var rng = RandomGenerator(seed: 3)
        let prompt = [1, 4, 2, 7]
        var seen: [[Double]] = []
        let generated = try model.generate(prompt: prompt, maxTokens: 9, sampler: Sampler(temperature: 0), generator: &rng) { _ in true }
        let all = prompt + generated
        let full = withoutGradients { model(IndexTensor(shape: [1, all.count], all)).logits }
        for (i, token) in generated.enumerated() {
            let row = full.select(axis: 1, index: prompt.count - 1 + i).toArray()
            seen.append(row)
            #expect(token == row.indices.max { row[$0] < row[$1] }!, "token \(i) is not the full pass's argmax")
        }
        #expect(generated.count == 9 && seen.count == 9)
    }

    /// Damaged or diverged weights give non-finite logits: generation stops with an error that says so (it once crashed
    /// in the sampler), at the prompt or at the first token whose logits are not finite.
    @Test func nonFiniteLogitsAreAnError() throws {
        let model = LanguageModelTests.tiny(.mag)
        var rng = RandomGenerator(seed: 5)
        let head = try #require(model.namedParameters().last?.tensor)
        head.assign(head * Double.nan)
        #expect(throws: GenerationError.nonFiniteLogits(position: 3)) {
            try model.generate(prompt: [1, 2, 3], maxTokens: 5, sampler: Sampler(), generator: &rng)
        }
    }

    /// `onToken` sees each token as it is drawn and can stop generation.
    @Test func stopsWhenAsked() throws {
        let model = LanguageModelTests.tiny(.mag)
        var rng = RandomGenerator(seed: 4)
        var streamed: [Int] = []
        let generated = try model.generate(prompt: [3], maxTokens: 50, sampler: Sampler(), generator: &rng) {
            streamed.append($0)
            return streamed.count < 5
        }
        #expect(generated == streamed && generated.count == 5)
    }

    /// What streaming keeps does not grow with the length generated, except Transformer++'s full-attention cache.
    @Test(arguments: ModelConfiguration.Architecture.allCases)
    func stateStaysBounded(_ architecture: ModelConfiguration.Architecture) {
        let model = LanguageModelTests.tiny(architecture)
        var (_, state) = withoutGradients { model(LanguageModelTests.tokens(batch: 1, length: 12)) }
        var sizes: [Int] = []
        for t in 0..<48 {
            state = withoutGradients { model(IndexTensor(shape: [1, 1], [t % 11]), state: state) }.state
            if t % 12 == 11 { sizes.append(state.storedElementCount) }  // same phase of every chunk and segment
        }
        if architecture == .transformer {
            #expect(sizes == sizes.sorted() && sizes.last! > sizes.first!, "\(sizes)")
        } else {
            #expect(Set(sizes).count == 1, "\(architecture): state sizes \(sizes)")
        }
    }
}
