import Foundation
import Testing
@testable import Titans

/// The inner objectives (Sources/Titans/Memory/InnerLoss.swift): the closed-form gradient of the read against the
/// engine's, its own derivatives (the outer loop differentiates through it), and the text and stored forms.
struct InnerLossTests {
    static let all: [InnerLoss] = [.squaredError, .dotProduct, .lp(p: 3), .lp(p: 2.5), .huber(delta: 0.4)]

    /// Reads and values in float64, errors spread over ±2 so that the Huber threshold binds for some entries and not
    /// others; no error within 1e-3 of 0 or ±δ, where the derivatives have kinks.
    static func readsAndValues(seed: UInt64) -> (Tensor, Tensor) {
        var rng = RandomGenerator(seed: seed)
        let values = Tensor.randomNormal([2, 3, 4], dtype: .float64, generator: &rng)
        var errors = Tensor.randomNormal([2, 3, 4], dtype: .float64, generator: &rng).toArray()
        for i in errors.indices where [0.0, 0.4, -0.4].contains(where: { Swift.abs(Swift.abs(errors[i]) - $0) < 1e-3 }) {
            errors[i] += 0.01
        }
        return (values + Tensor(shape: [2, 3, 4], errors, dtype: .float64), values)
    }

    @Test(arguments: all)
    func closedFormGradientIsTheEngines(loss: InnerLoss) {
        let (reads, values) = Self.readsAndValues(seed: 4)
        let read = reads.requiringGrad()
        let engine = Tensor.gradients(of: loss.value(read, values), withRespectTo: [read])[0]
        let closed = loss.outputGradient(reads, values)
        let difference = zip(engine.toArray(), closed.toArray()).map { Swift.abs($0 - $1) }.max() ?? .infinity
        #expect(difference < 1e-12, "\(loss): \(difference)")
    }

    /// The steps of the inner loop are functions of dℓ/d(read), which the outer gradient differentiates: first- and
    /// second-order finite differences of ⟨dℓ/d(read), ·⟩ in the reads and the values.
    @Test(arguments: all)
    func outputGradientHasFirstAndSecondOrderGradients(loss: InnerLoss) {
        let (reads, values) = Self.readsAndValues(seed: 6)
        let first = GradientCheck.first(inputs: [reads, values]) { loss.outputGradient($0[0], $0[1]).tanh() }
        #expect(first.passed, "\(loss): \(first)")
        let second = GradientCheck.second(inputs: [reads, values]) { loss.outputGradient($0[0], $0[1]).tanh() }
        #expect(second.passed, "\(loss): \(second)")
    }

    /// The curvature factor of ℓp sits inside the step rules, inside the inner loop: first- and second-order finite
    /// differences (errors here make it larger than 1, away from the max's kink).
    @Test(arguments: [InnerLoss.lp(p: 3), .lp(p: 2.5)])
    func curvatureFactorHasFirstAndSecondOrderGradients(loss: InnerLoss) throws {
        let (reads, values) = Self.readsAndValues(seed: 7)
        let factor = try #require(loss.curvatureFactor(reads, values, outputGradient: loss.outputGradient(reads, values)))
        #expect(factor.toArray().allSatisfy { $0 > 1.01 })
        func f(_ t: [Tensor]) -> Tensor { loss.curvatureFactor(t[0], t[1], outputGradient: loss.outputGradient(t[0], t[1]))! }
        let first = GradientCheck.first(inputs: [reads, values], f)
        #expect(first.passed, "\(loss): \(first)")
        let second = GradientCheck.second(inputs: [reads, values], f)
        #expect(second.passed, "\(loss): \(second)")
        #expect(InnerLoss.squaredError.curvatureFactor(reads, values, outputGradient: reads) == nil)
    }

    /// ℓp's curvature grows with the error, so the chunk bound must count it: without it the first forward pass of a
    /// MAG model (width 64, 2 blocks, batch 4 × 128 random bytes) with `lp:3` gave NaN.
    @Test func lpDoesNotDivergeInAModel() {
        var rng = RandomGenerator(seed: 3)
        var config = ModelConfiguration.standard(.mag)
        config.resize(width: 64, heads: 4)
        config.layers = 2
        config.memory.innerLoss = .lp(p: 3)
        let model = LanguageModel(config, generator: &rng)
        let x = IndexTensor(shape: [4, 128], (0..<512).map { _ in Int(rng.next() % 256) })
        #expect(withoutGradients { model(x).logits }.allFinite)
    }

    /// The Huber loss is the squared error inside ±δ and grows linearly beyond, with a gradient of at most 2δ.
    @Test func huberMeetsTheSquaredErrorInsideItsThreshold() {
        let values = Tensor(shape: [4], [0, 0, 0, 0], dtype: .float64)
        let reads = Tensor(shape: [4], [0.1, -0.3, 2, -5], dtype: .float64)
        let huber = InnerLoss.huber(delta: 0.5)
        #expect(Swift.abs(huber.value(reads, values).item() - (0.01 + 0.09 + 0.5 * (4 - 0.5) + 0.5 * (10 - 0.5))) < 1e-12)
        #expect(huber.outputGradient(reads, values).toArray() == [0.2, -0.6, 1, -1])
    }

    @Test func textForms() {
        for loss in Self.all { #expect(InnerLoss(loss.description) == loss, "\(loss)") }
        for bad in ["", "lp", "lp:1.5", "lp:x", "huber:0", "huber:-1", "huber:inf", "squared-error:2", "squaredError", "l2"] {
            #expect(InnerLoss(bad) == nil, "\(bad)")
        }
        #expect(NeuralMemoryConfiguration(width: 8, innerLoss: .lp(p: 1)).problem != nil)
        #expect(NeuralMemoryConfiguration(width: 8, innerLoss: .huber(delta: 0)).problem != nil)
    }

    /// Stored as text; the names configurations used before ℓp and Huber existed still read.
    @Test func storedForms() throws {
        for loss in Self.all {
            let config = NeuralMemoryConfiguration(width: 8, heads: 2, innerLoss: loss)
            #expect(try JSONDecoder().decode(NeuralMemoryConfiguration.self, from: try JSONEncoder().encode(config)) == config)
        }
        for (legacy, loss) in [("squaredError", InnerLoss.squaredError), ("dotProduct", .dotProduct)] {
            #expect(try JSONDecoder().decode([InnerLoss].self, from: Data("[\"\(legacy)\"]".utf8)) == [loss])
        }
        #expect(throws: DecodingError.self) { try JSONDecoder().decode([InnerLoss].self, from: Data("[\"lp:1\"]".utf8)) }
    }
}
