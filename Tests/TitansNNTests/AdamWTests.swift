import Foundation
import Testing
@testable import TitansNN

/// A plain-Swift AdamW over flat arrays, written independently of the tensor code, as the reference.
private struct ReferenceAdamW {
    var m: [[Double]]
    var v: [[Double]]
    var t = 0
    let beta1: Double, beta2: Double, epsilon: Double, weightDecay: Double
    let decays: [Bool]

    init(sizes: [Int], decays: [Bool], beta1: Double, beta2: Double, epsilon: Double, weightDecay: Double) {
        m = sizes.map { [Double](repeating: 0, count: $0) }
        v = m
        self.decays = decays
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.weightDecay = weightDecay
    }

    /// One step; a nil gradient leaves that parameter and its moments alone.
    mutating func step(_ parameters: inout [[Double]], _ gradients: [[Double]?], lr: Double) {
        t += 1
        for k in parameters.indices {
            guard let g = gradients[k] else { continue }
            for i in parameters[k].indices {
                m[k][i] = beta1 * m[k][i] + (1 - beta1) * g[i]
                v[k][i] = beta2 * v[k][i] + (1 - beta2) * g[i] * g[i]
                let mHat = m[k][i] / (1 - Foundation.pow(beta1, Double(t)))
                let vHat = v[k][i] / (1 - Foundation.pow(beta2, Double(t)))
                let decay = decays[k] ? weightDecay * parameters[k][i] : 0
                parameters[k][i] -= lr * (mHat / (vHat.squareRoot() + epsilon) + decay)
            }
        }
    }
}

private func expectClose(_ a: [Double], _ b: [Double], tolerance: Double = 1e-13,
                         sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(a.count == b.count, sourceLocation: sourceLocation)
    for (x, y) in zip(a, b) {
        #expect(Swift.abs(x - y) <= tolerance * Swift.max(1, Swift.abs(y)), "\(x) vs \(y)", sourceLocation: sourceLocation)
    }
}

@Suite("AdamW")
struct AdamWTests {
    @Test func oneStepMatchesTheHandComputedUpdate() {
        let weight = Tensor(shape: [2, 2], [1, -2, 0.5, 3], dtype: .float64)
        let bias = Tensor(shape: [2], [0.1, -0.3], dtype: .float64)
        weight.grad = Tensor(shape: [2, 2], [0.2, -0.4, 1e-9, 0], dtype: .float64)
        bias.grad = Tensor(shape: [2], [-3, 0.5], dtype: .float64)
        let (lr, wd, eps) = (0.01, 0.1, 1e-8)
        let optimizer = AdamW([("weight", weight), ("bias", bias)], learningRate: lr, epsilon: eps, weightDecay: wd)
        optimizer.step()

        // At t = 1 the bias corrections undo the (1 − β) factors: m̂ = g, v̂ = g², so the step is g / (|g| + ε).
        func updated(_ p: Double, _ g: Double, decay: Bool) -> Double {
            p - lr * (g / (Swift.abs(g) + eps) + (decay ? wd * p : 0))
        }
        expectClose(weight.toArray(), [updated(1, 0.2, decay: true), updated(-2, -0.4, decay: true),
                                       updated(0.5, 1e-9, decay: true), updated(3, 0, decay: true)], tolerance: 1e-15)
        expectClose(bias.toArray(), [updated(0.1, -3, decay: false), updated(-0.3, 0.5, decay: false)], tolerance: 1e-15)
        // Spelled out for the first element: 1 − 0.01·(0.2/(0.2 + 1e-8) + 0.1·1).
        #expect(Swift.abs(weight[0, 0] - (1 - 0.01 * (0.2 / 0.20000001 + 0.1))) < 1e-15)
        #expect(optimizer.stepCount == 1)
        #expect(weight.grad != nil, "step must not clear gradients")
    }

    @Test func severalStepsMatchAReferenceLoop() {
        var rng = RandomGenerator(seed: 42)
        let shapes = [[3, 4], [4], [2, 2, 3], []]
        let tensors = shapes.map { Tensor.randomNormal($0, dtype: .float64, generator: &rng) }
        let named = tensors.enumerated().map { (name: "p\($0.offset)", tensor: $0.element) }
        let optimizer = AdamW(named, learningRate: 0.05, beta1: 0.8, beta2: 0.9, epsilon: 1e-6, weightDecay: 0.2)
        #expect(optimizer.decayMask == [true, false, true, false])
        var reference = ReferenceAdamW(sizes: tensors.map(\.count), decays: [true, false, true, false],
                                       beta1: 0.8, beta2: 0.9, epsilon: 1e-6, weightDecay: 0.2)
        var values = tensors.map { $0.toArray() }
        for step in 0..<7 {
            var gradients: [[Double]?] = []
            for (k, t) in tensors.enumerated() {
                // Parameter 1 has no gradient on some steps: it and its moments must then stay as they are.
                if k == 1 && step % 3 == 1 {
                    t.grad = nil
                    gradients.append(nil)
                } else {
                    let g = Tensor.randomNormal(t.shape, dtype: .float64, generator: &rng)
                    t.grad = g
                    gradients.append(g.toArray())
                }
            }
            let lr = 0.05 * Double(step + 1) / 7
            optimizer.step(learningRate: lr)
            reference.step(&values, gradients, lr: lr)
            for (t, expected) in zip(tensors, values) { expectClose(t.toArray(), expected) }
        }
        #expect(optimizer.stepCount == 7)
    }

    @Test func float32StepsMatchTheReferenceLoop() {
        // Contiguous float32 parameters take a fused one-pass path; a transposed (strided) one the general path.
        var rng = RandomGenerator(seed: 8)
        let tensors = [Tensor.randomNormal([5, 7], generator: &rng), Tensor.randomNormal([7], generator: &rng),
                       Tensor.randomNormal([3, 4], generator: &rng).transposed()]
        #expect(!tensors[2].isContiguous)
        let optimizer = AdamW(tensors.enumerated().map { ("p\($0.offset)", $0.element) }, learningRate: 0.01, weightDecay: 0.1)
        var reference = ReferenceAdamW(sizes: tensors.map(\.count), decays: [true, false, true],
                                       beta1: 0.9, beta2: 0.95, epsilon: 1e-8, weightDecay: 0.1)
        var values = tensors.map { $0.toArray() }
        for _ in 0..<5 {
            let gradients = tensors.map { Tensor.randomNormal($0.shape, generator: &rng) }
            for (t, g) in zip(tensors, gradients) { t.grad = g }
            optimizer.step()
            reference.step(&values, gradients.map { $0.toArray() }, lr: 0.01)
        }
        for (t, expected) in zip(tensors, values) { expectClose(t.toArray(), expected, tolerance: 2e-6) }
    }

    @Test func weightDecayAppliesOnlyToMatricesByDefault() {
        let matrix = Tensor.ones([2, 3])
        let vector = Tensor.ones([3])
        let scalar = Tensor.scalar(1)
        let named = [("matrix", matrix), ("vector", vector), ("scalar", scalar)]
        for (_, t) in named { t.grad = Tensor.zeros(like: t) }
        // Zero gradients give a zero Adam step, so only the decay moves anything.
        let optimizer = AdamW(named, learningRate: 0.5, weightDecay: 0.1)
        optimizer.step()
        expectClose(matrix.toArray(), [Double](repeating: 0.95, count: 6), tolerance: 1e-7)
        #expect(vector.toArray() == [1, 1, 1])
        #expect(scalar.item() == 1)

        let custom = AdamW(named, learningRate: 0.5, weightDecay: 0.1, decays: { name, _ in name == "vector" })
        custom.step()
        expectClose(matrix.toArray(), [Double](repeating: 0.95, count: 6), tolerance: 1e-7)
        expectClose(vector.toArray(), [Double](repeating: 0.95, count: 3), tolerance: 1e-7)
    }

    @Test func parametersWithoutGradientsAreSkippedAndZeroGradientsClears() {
        let a = Tensor(shape: [2, 2], [1, 2, 3, 4])
        let b = Tensor(shape: [2], [5, 6])
        a.grad = Tensor.ones([2, 2])
        let optimizer = AdamW([("a", a), ("b", b)], learningRate: 0.1)
        optimizer.step()
        #expect(b.toArray() == [5, 6])
        #expect(a.toArray() != [1, 2, 3, 4])
        optimizer.zeroGradients()
        #expect(a.grad == nil && b.grad == nil)
        let before = a.toArray()
        optimizer.step()
        #expect(a.toArray() == before)
    }

    @Test func tiedWeightsAreUpdatedOnce() {
        let shared = Tensor.ones([2, 2], dtype: .float64)
        shared.grad = Tensor.ones([2, 2], dtype: .float64)
        let optimizer = AdamW([("embedding", shared), ("output", shared)], learningRate: 0.1, weightDecay: 0)
        #expect(optimizer.parameters.map(\.name) == ["embedding"])
        optimizer.step()
        expectClose(shared.toArray(), [Double](repeating: 1 - 0.1 / (1 + 1e-8), count: 4))
    }

    @Test func minimisesAQuadraticThroughBackward() {
        let x = Tensor(shape: [3], [0, 5, -2]).requiringGrad()
        let target = Tensor(shape: [3], [3, -1, 0.5])
        let optimizer = AdamW([("x", x)], learningRate: 0.1, weightDecay: 0)
        for _ in 0..<300 {
            let loss = (x - target).squared().sum()
            loss.backward()
            optimizer.step()
            optimizer.zeroGradients()
        }
        #expect(x.requiresGrad && x.isLeaf)
        expectClose(x.toArray(), [3, -1, 0.5], tolerance: 1e-2)
    }

    @Test func stateRoundTripGivesAnIdenticalContinuation() throws {
        var rng = RandomGenerator(seed: 5)
        let shapes = [[4, 3], [3]]
        func makeParameters() -> [(name: String, tensor: Tensor)] {
            var local = RandomGenerator(seed: 99)
            return shapes.enumerated().map { (name: "layer.\($0.offset)", tensor: Tensor.randomNormal($0.element, generator: &local)) }
        }
        let first = makeParameters()
        let optimizer = AdamW(first, learningRate: 0.01)
        let gradients = (0..<6).map { _ in shapes.map { Tensor.randomNormal($0, generator: &rng) } }
        func apply(_ step: Int, to parameters: [(name: String, tensor: Tensor)], _ optimizer: AdamW) {
            for (p, g) in zip(parameters, gradients[step]) { p.tensor.grad = g }
            optimizer.step(learningRate: 0.01 / Double(step + 1))
        }
        for step in 0..<3 { apply(step, to: first, optimizer) }

        let state = optimizer.state
        #expect(state.map(\.name) == ["adamw.step", "adamw.m.layer.0", "adamw.v.layer.0", "adamw.m.layer.1", "adamw.v.layer.1"])
        let second = makeParameters()
        for (a, b) in zip(second, first) { a.tensor.assign(b.tensor) }
        let resumed = AdamW(second, learningRate: 0.01)
        try resumed.loadState(state)
        #expect(resumed.stepCount == 3)

        for step in 3..<6 {
            apply(step, to: first, optimizer)
            apply(step, to: second, resumed)
        }
        for (a, b) in zip(first, second) {
            #expect(a.tensor.toFloatArray().map(\.bitPattern) == b.tensor.toFloatArray().map(\.bitPattern))
        }
        // The exported state is a copy: later steps left it as it was.
        #expect(state[0].tensor.item() == 3)
    }

    @Test func loadStateRefusesMismatchesAndChangesNothing() {
        let p = Tensor.ones([2, 3])
        p.grad = Tensor.ones([2, 3])
        let optimizer = AdamW([("w", p)])
        optimizer.step()
        let before = optimizer.state.map { $0.tensor.toArray() }

        func expectRefusal(_ state: [(name: String, tensor: Tensor)], _ expected: OptimizerStateError,
                           sourceLocation: SourceLocation = #_sourceLocation) {
            #expect(throws: expected, sourceLocation: sourceLocation) { try optimizer.loadState(state) }
            #expect(optimizer.state.map { $0.tensor.toArray() } == before, sourceLocation: sourceLocation)
            #expect(optimizer.stepCount == 1, sourceLocation: sourceLocation)
        }
        let step = (name: "adamw.step", tensor: Tensor.scalar(7, dtype: .float64))
        let m = (name: "adamw.m.w", tensor: Tensor.zeros([2, 3]))
        let v = (name: "adamw.v.w", tensor: Tensor.zeros([2, 3]))
        expectRefusal([step, m], .missingTensor(name: "adamw.v.w"))
        expectRefusal([m, v], .missingTensor(name: "adamw.step"))
        expectRefusal([step, m, (name: "adamw.v.w", tensor: Tensor.zeros([3, 2]))],
                      .shapeMismatch(name: "adamw.v.w", expected: [2, 3], found: [3, 2]))
        expectRefusal([step, m, (name: "adamw.v.w", tensor: Tensor.zeros([2, 3], dtype: .float64))],
                      .dtypeMismatch(name: "adamw.v.w", expected: .float32, found: .float64))
        expectRefusal([step, m, v, (name: "adamw.m.other", tensor: Tensor.zeros([1]))], .unexpectedTensor(name: "adamw.m.other"))
        expectRefusal([(name: "adamw.step", tensor: Tensor.scalar(1.5, dtype: .float64)), m, v], .invalidStepCount(description: "1.5"))
        let message = OptimizerStateError.missingTensor(name: "adamw.v.w").description
        #expect(message.contains("adamw.v.w") && message.contains("start the optimizer afresh"))
    }
}
