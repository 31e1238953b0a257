import Testing
import TitansEval
@testable import TitansTraining

struct SequenceClassifierTests {
    static let backbone = ModelConfiguration(architecture: .lmm, vocabularySize: 256, width: 16, layers: 1, heads: 2)

    /// The loss's gradient with respect to the classifier's own parameters (embedding, final norm, head; the blocks'
    /// gradients have their own checks), against central differences in float64.
    @Test func gradientsMatchFiniteDifferences() throws {
        var rng = RandomGenerator(seed: 1)
        let model = SequenceClassifier(ClassifierConfiguration(backbone: Self.backbone, classes: ["a", "b", "c"]), dtype: .float64,
                                       generator: &rng)
        let tokens = IndexTensor(shape: [2, 6], Array("ACGTNAGGCCTA".utf8).map(Int.init))
        let labels = IndexTensor(shape: [2], [2, 0])
        #expect(model(tokens).shape == [2, 3])
        let own = model.namedParameters().filter { !$0.name.hasPrefix("blocks.") }.map(\.tensor)
        #expect(own.count == 4)
        let result = GradientCheck.first(parameters: own) { model.loss(tokens: tokens, labels: labels) }
        #expect(result.passed, "\(result)")
    }

    /// A motif task: class "motif" holds GATTACA somewhere in 40 random nucleotides, class "random" does not; trained
    /// briefly, the LMM classifier gets the held-out sequences right, where a guess gets half. (300 steps: under the
    /// momentum bound, the default step rule, 200 steps gave 52 of 60, where the chunk bound had given 55.)
    @Test func learnsAMotif() throws {
        var rng = RandomGenerator(seed: 2)
        func random(_ count: Int) -> [UInt8] { (0..<count).map { _ in Array("ACGT".utf8)[rng.uniformIndex(4)] } }
        var motif: [FastaRecord] = [], plain: [FastaRecord] = []
        for i in 0..<300 {
            var bytes = random(40)
            let at = rng.uniformIndex(33)
            bytes.replaceSubrange(at..<(at + 7), with: Array("GATTACA".utf8))
            motif.append(FastaRecord(name: "m\(i)", sequence: bytes))
            plain.append(FastaRecord(name: "r\(i)", sequence: random(40)))
        }
        let data = try LabelledSequences(classes: [("motif", motif), ("random", plain)], test: nil, seed: 3)
        var initial = RandomGenerator(seed: 4)
        let model = SequenceClassifier(ClassifierConfiguration(backbone: Self.backbone, classes: data.classes), generator: &initial)
        let trainer = Trainer(model: model, source: data,
                              configuration: TrainingConfiguration(steps: 300, batchSize: 16, sequenceLength: 40, learningRate: 3e-3))
        for _ in 0..<300 { _ = try trainer.trainStep() }
        let score = ClassificationEvaluation.score(of: model, on: data.test, in: data)
        #expect(score.count == 60 && score.accuracy > 0.9, "\(score.correct) of \(score.count)")
    }
}
