import Foundation
import Testing
@testable import Titans

/// Forgetting toward M₀ (`NeuralMemoryConfiguration.forgetsTowardInitial`): M_t = (1 − α_t) M_{t−1} + α_t M₀ + S_t. Every
/// form held equal to the references with an anchor, the references held to the equation, and the layer's outer
/// gradients, streaming and recomputed groups.
struct ForgettingTowardInitialTests {
    typealias Setup = MemoryUpdateTests.Setup

    /// A setup whose memory forgets toward an anchor of its own (random, not the initial state, so a form that took one
    /// for the other fails).
    static func anchored(depth: Int, momentum: Bool, length: Int = 7, shortcut: Bool = false, residualNorm: Bool = false) -> Setup {
        let s = MemoryUpdateTests.setup(depth: depth, momentum: momentum, forgetting: true, length: length, shortcut: shortcut,
                                        residualNorm: residualNorm)
        var rng = RandomGenerator(seed: 41)
        var mlp = s.mlp
        mlp.anchor = ForgettingAnchor(weights: s.state.weights.map {
            Tensor.randomNormal($0.shape, standardDeviation: 0.5, dtype: .float64, generator: &rng)
        })
        return Setup(mlp: mlp, stream: s.stream, state: s.state)
    }

    static let settings: [(depth: Int, momentum: Bool, shortcut: Bool)] = [(1, true, false), (1, false, false), (2, true, true),
                                                                           (2, false, false), (3, true, false)]

    /// Form 3 = form 2 (chunks of 3 over 7 tokens), form 4 in pieces = form 2, and at b = 1 forms 2 and 3 = form 1, for
    /// the plain rule, the chunk bound and per-layer rates; depths 1–3, momentum on and off, the shortcut.
    @Test(arguments: [StepRule.plain, .chunkBounded(bound: 0.3), .layerNormalized])
    func formsAgree(rule: StepRule) {
        for setting in Self.settings {
            let s = Self.anchored(depth: setting.depth, momentum: setting.momentum, shortcut: setting.shortcut)
            let reference = MemoryUpdateTests.miniBatch(s, chunkSize: 3, rule: rule)
            MemoryUpdateTests.expectEqual(MemoryUpdateTests.chunked(s, chunkSize: 3, rule: rule), reference, tolerance: 1e-6)
            MemoryUpdateTests.expectEqual(MemoryUpdateTests.inPieces(s, [2, 1, 4], chunkSize: 3, rule: rule, form: MemoryUpdate.recurrent),
                                          reference, tolerance: 1e-9)
            let online = MemoryUpdate.sequential(s.mlp, s.stream, s.state, rule: rule)
            MemoryUpdateTests.expectEqual(MemoryUpdateTests.miniBatch(s, chunkSize: 1, rule: rule), online, tolerance: 1e-12)
            MemoryUpdateTests.expectEqual(MemoryUpdateTests.chunked(s, chunkSize: 1, rule: rule), online, tolerance: 1e-12)
        }
    }

    /// The forms continue each other's cursors (chunked, one-token, chunked again, part-way through chunks), with and
    /// without the residual wrapper, whose gain forgets toward its own M₀ too.
    @Test(arguments: [StepRule.plain, .chunkBounded(bound: 0.3)])
    func formsContinueEachOther(rule: StepRule) {
        for residualNorm in [false, true] {
            let s = Self.anchored(depth: 2, momentum: true, length: 9, residualNorm: residualNorm)
            MemoryUpdateTests.expectEqual(MemoryUpdateTests.alternatingForms(s, rule: rule),
                                          MemoryUpdateTests.miniBatch(s, chunkSize: 3, rule: rule), tolerance: 1e-6)
        }
    }

    /// The fused one-token step (float32) equals the op path (float64) with an anchor, from a chunk boundary and from
    /// part-way through a chunk the chunked form left; also with the residual wrapper, whose gain forgets toward its own M₀.
    @Test(arguments: [StepRule.plain, .chunkBounded(bound: 0.3), .carryBounded(bound: 0.3)])
    func fusedStepEqualsTheOpPath(rule: StepRule) {
        for (setting, residualNorm) in Self.settings.map({ ($0, false) }) + [((depth: 2, momentum: true, shortcut: true), true)] {
            let s = Self.anchored(depth: setting.depth, momentum: setting.momentum, length: 9, shortcut: setting.shortcut,
                                  residualNorm: residualNorm)
            FusedRecurrentTests.expectFusedMatches(s, prefixes: [0, 2], chunkSize: 4, rule: rule)
        }
    }

    /// The reference is the equation: with no steps (θ = 0, no surprise) a memory that starts at its anchor stays there
    /// exactly, while forgetting toward zero shrinks it by the retention Π(1 − α); and an anchor changes what the forms give.
    @Test func theReferenceIsTheEquation() {
        let s = MemoryUpdateTests.setup(depth: 2, momentum: true, forgetting: true)
        let still = MemoryStream(queries: s.stream.queries, keys: s.stream.keys, values: s.stream.values,
                                 learningRate: s.stream.learningRate * 0, logMomentum: s.stream.logMomentum,
                                 logRetention: s.stream.logRetention)
        let start = MemoryState(weights: s.state.weights, surprise: s.state.surprise.map { Tensor.zeros(like: $0) })
        var toward = s.mlp
        toward.anchor = ForgettingAnchor(weights: start.weights)
        let kept = MemoryUpdate.sequential(toward, still, start).1
        let decayed = MemoryUpdate.sequential(s.mlp, still, start).1
        let retention = s.stream.logRetention!.sum(axis: -1).exp().unsqueeze(-1).unsqueeze(-1)  // Π(1 − α) [B, H, 1, 1]
        for l in start.weights.indices {
            let anchor = start.weights[l].expand(to: kept.weights[l].shape)
            #expect(MemoryUpdateTests.maxRelativeError(kept.weights[l], anchor) <= 1e-14)
            #expect(MemoryUpdateTests.maxRelativeError(decayed.weights[l], anchor * retention) <= 1e-14)
        }
        let a = Self.anchored(depth: 2, momentum: true)
        #expect(MemoryUpdateTests.maxRelativeError(MemoryUpdateTests.miniBatch(a, chunkSize: 3).0,
                                                   MemoryUpdateTests.miniBatch(s, chunkSize: 3).0) > 1e-3)
    }

    static func tiny(chunkSize: Int = 2) -> NeuralMemory {
        var rng = RandomGenerator(seed: 3)
        let config = NeuralMemoryConfiguration(width: 4, heads: 2, headWidth: 2, memoryDepth: 2, hiddenExpansion: 2, convolutionKernel: 3,
                                               maxLearningRate: 0.5, initialForgetting: 0.2, forgetsTowardInitial: true,
                                               chunkSize: chunkSize)
        return NeuralMemory(config, dtype: .float64, generator: &rng)
    }

    /// The outer loss differentiates into M₀ along both of its ways (the start of the memory and what forgetting
    /// returns to): finite differences in float64, in one call and with the chunks recomputed in groups in the backward
    /// pass (M₀ then enters each group's recomputation as a parameter).
    @Test func outerGradients() {
        let memory = Self.tiny()
        let x = NeuralMemoryTests.input(time: 8)
        for grouped in [nil, 4] as [Int?] {
            let result = MemoryUpdate.$recomputedGroupTokens.withValue(grouped) {
                GradientCheck.first(parameters: memory.parameters()) { memory(x).0 }
            }
            #expect(result.passed, "groups of \(grouped.map(String.init) ?? "none"): \(result)")
        }
    }

    /// Streaming in pieces (the one-token step included) gives the outputs of one call.
    @Test(arguments: [[1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1], [3, 8], [5, 1, 5]])
    func streamingInPiecesEqualsOneCall(pieces: [Int]) {
        let memory = Self.tiny(chunkSize: 4)
        let x = NeuralMemoryTests.input(time: 11)
        #expect(MemoryUpdateTests.maxRelativeError(NeuralMemoryTests.streamed(memory, x, pieces: pieces).0, memory(x).0) < 1e-12)
    }

    /// Configurations: written to JSON only when on (old ones read without it and forget toward zero); refused without
    /// forgetting or with exact steps.
    @Test func configurations() throws {
        var config = NeuralMemoryConfiguration(width: 8, heads: 2)
        let plain = String(decoding: try JSONEncoder().encode(config), as: UTF8.self)
        #expect(!plain.contains("forgetsTowardInitial"))
        config.forgetsTowardInitial = true
        #expect(config.problem == nil)
        let back = try JSONDecoder().decode(NeuralMemoryConfiguration.self, from: try JSONEncoder().encode(config))
        #expect(back == config)
        #expect(try JSONDecoder().decode(NeuralMemoryConfiguration.self, from: Data(plain.utf8)).forgetsTowardInitial == false)
        var noForgetting = config
        noForgetting.forgetting = false
        #expect(noForgetting.problem?.contains("forgetting toward M₀") == true)
        var exact = config
        (exact.memoryDepth, exact.momentum, exact.stepRule, exact.exactSteps) = (1, false, .plain, true)
        #expect(exact.problem?.contains("forgetting toward M₀") == true)
    }
}
