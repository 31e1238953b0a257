import Foundation
import Testing
@testable import TitansTraining

/// The batch cut into parts computed side by side gives the whole batch's loss and gradients (the slow reference:
/// one forward and `backward()` on the whole batch).
struct ShardedGradientsTests {
    static func batch(rows: Int, length: Int, weights: [Double]? = nil) -> TrainingBatch {
        var rng = RandomGenerator(seed: 5)
        let inputs = (0..<(rows * length)).map { _ in Int(rng.next() % 256) }
        let targets = (0..<(rows * length)).map { _ in Int(rng.next() % 256) }
        return TrainingBatch(inputs: IndexTensor(shape: [rows, length], inputs),
                             targets: IndexTensor(shape: [rows, length], targets), lossWeights: weights)
    }

    /// Parameters' gradients after `body`, from zero.
    static func gradients(_ model: LanguageModel, _ body: () -> Double) -> (Double, [Tensor?]) {
        model.parameters().forEach { $0.grad = nil }
        let value = body()
        return (value, model.parameters().map(\.grad))
    }

    @Test(arguments: [ModelConfiguration.Architecture.mag, .mac, .lmm])
    func partsGiveTheWholeBatchesGradients(_ architecture: ModelConfiguration.Architecture) {
        let model = TrainerTests.model(architecture)
        // Unweighted, and weighted with the second row unscored (a part whose share is 0).
        for weights in [nil, (0..<48).map { $0 / 12 == 1 ? 0.0 : Double($0 % 3) }] as [[Double]?] {
            let batch = Self.batch(rows: 4, length: 12, weights: weights)
            let (expectedLoss, expected) = Self.gradients(model) {
                let loss = model.loss(on: batch)
                (loss * 0.5).backward()
                return loss.item()
            }
            for parts in [2, 3, 4] {  // 3 parts of 4 rows: 1, 1 and 2 rows
                let (loss, actual) = Self.gradients(model) { model.accumulateGradients(on: batch, scale: 0.5, parts: parts) }
                #expect(abs(loss - expectedLoss) <= 1e-5 * abs(expectedLoss), "\(architecture) \(parts) parts")
                for (a, e) in zip(actual, expected) {
                    guard let a, let e else { #expect(a == nil && e == nil); continue }
                    let scale = max(e.abs().max().item(), 1e-3)
                    #expect((a - e).abs().max().item() <= 1e-4 * scale, "\(architecture) \(parts) parts")
                }
            }
        }
    }

    /// Scoring without gradients in parts: the logits and the loss of the whole batch.
    @Test func partsScoreAsTheWholeBatch() {
        let model = TrainerTests.model(.mac)
        let batch = Self.batch(rows: 3, length: 12, weights: (0..<36).map { Double($0 % 2) })
        let whole = withoutGradients { model(batch.inputs).logits }
        let parts = model.logits(batch.inputs)
        #expect(parts.shape == whole.shape)
        #expect((parts - whole).abs().max().item() <= 1e-5)
        let loss = withoutGradients { model.loss(on: batch).item() }
        for count in [1, 2, 3] {
            #expect(abs(model.evaluationLoss(on: batch, parts: count) - loss) <= 1e-6 * loss, "\(count) parts")
        }
    }

    @Test func rowGroupsSplitRowsAndShareTheScoredTargets() {
        let weights = [1.0, 1, 0, 0, 0, 0, 1, 1, 1, 1]  // 5 rows of 2
        let groups = Self.batch(rows: 5, length: 2, weights: weights).rowGroups(3)
        #expect(groups.map { $0.batch.inputs.shape } == [[1, 2], [2, 2], [2, 2]])
        let shares: [Double] = [2.0 / 6, 0, 4.0 / 6]
        #expect(groups.map(\.weight) == shares)
        #expect(Self.batch(rows: 5, length: 2, weights: [Double](repeating: 0, count: 10)).rowGroups(2).map(\.weight) == [0, 0])
        #expect(Self.batch(rows: 1, length: 4).rowGroups(2).count == 1)
        let thirds: [Double] = [1.0 / 3, 1.0 / 3, 1.0 / 3]
        #expect(Self.batch(rows: 3, length: 4).rowGroups(8).map(\.weight) == thirds)
    }

    @Test func aNonFiniteLossAddsNothing() {
        let model = TrainerTests.model(.lmm)
        let parameter = model.parameters()[0]
        withoutGradients { parameter.assign(parameter * .nan) }
        let value = model.accumulateGradients(on: Self.batch(rows: 2, length: 8), scale: 1, parts: 2)
        #expect(!value.isFinite)
        #expect(model.parameters().allSatisfy { $0.grad == nil })
    }
}

/// Blocks recomputed in the backward pass (activation checkpointing) give the same loss and gradients as blocks whose
/// activations are kept.
struct RecomputedBlocksTests {
    /// The model's loss and gradients on `batch` with its activations kept and with blocks recomputed (the memory's
    /// chunks grouped by `groupTokens`): the same loss, and gradients within `tolerance` of each tensor's largest.
    static func expectRecomputationMatches(_ architecture: ModelConfiguration.Architecture, length: Int, groupTokens: Int,
                                           tolerance: Double) {
        let model = TrainerTests.model(architecture)
        model.recomputedMemoryGroupTokens = groupTokens
        let batch = ShardedGradientsTests.batch(rows: 2, length: length)
        func run(_ recompute: Bool) -> (Double, [Tensor?]) {
            model.recomputesBlocks = recompute
            return ShardedGradientsTests.gradients(model) {
                let loss = model.loss(on: batch)
                loss.backward()
                return loss.item()
            }
        }
        let (keptLoss, kept) = run(false), (recomputedLoss, recomputed) = run(true)
        #expect(keptLoss == recomputedLoss, "\(architecture)")
        for (a, b) in zip(recomputed, kept) {
            guard let a, let b else { #expect(a == nil && b == nil); continue }
            let scale = max(b.abs().max().item(), 1e-3)
            #expect((a - b).abs().max().item() <= tolerance * scale, "\(architecture)")
        }
    }

    /// 12 tokens, shorter than two groups: the memory is not grouped, and the gradients are equal bit for bit.
    @Test(arguments: [ModelConfiguration.Architecture.mag, .mac, .mal, .lmm])
    func sameGradients(_ architecture: ModelConfiguration.Architecture) {
        Self.expectRecomputationMatches(architecture, length: 12, groupTokens: 1024, tolerance: 0)
    }

    /// The memory's chunks in groups recomputed inside each block's recomputation (groups of 2 chunks of 4 tokens,
    /// 24 tokens: 3 groups; MAC's in groups of one segment of 8, its persistent tokens projected again in each): the
    /// same loss and, to float rounding of the summation order, the same gradients.
    @Test(arguments: [ModelConfiguration.Architecture.mag, .mac, .mal, .lmm])
    func memoryChunkGroups(_ architecture: ModelConfiguration.Architecture) {
        Self.expectRecomputationMatches(architecture, length: 24, groupTokens: 8, tolerance: 1e-5)
    }

    /// MAC's groups followed by what is left of the sequence (four groups of 8, then half a segment run as without
    /// groups).
    @Test func macGroupsThenTheRest() {
        Self.expectRecomputationMatches(.mac, length: 36, groupTokens: 8, tolerance: 1e-5)
    }
}
