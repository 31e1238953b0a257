import Foundation
import Testing
@testable import TitansNN

@Suite("SwiGLU")
struct SwiGLUTests {
    @Test func parametersAreNamedAndShaped() {
        var rng = RandomGenerator(seed: 1)
        let mlp = SwiGLU(width: 4, hidden: 6, generator: &rng)
        let named = mlp.namedParameters()
        #expect(named.map(\.name) == ["gate.weight", "up.weight", "down.weight"])
        #expect(named.map(\.tensor.shape) == [[4, 6], [4, 6], [6, 4]])
        #expect(mlp.parameterCount == 72)
        #expect(mlp.width == 4 && mlp.hidden == 6)
    }

    @Test func equalsManualComputation() {
        var rng = RandomGenerator(seed: 2)
        let mlp = SwiGLU(width: 3, hidden: 5, dtype: .float64, generator: &rng)
        let x = Tensor.randomNormal([2, 4, 3], dtype: .float64, generator: &rng)
        let y = mlp(x)
        #expect(y.shape == [2, 4, 3])
        let (wg, wu, wd) = (mlp.gate.weight, mlp.up.weight, mlp.down.weight)
        for b in 0..<2 {
            for t in 0..<4 {
                var hidden = [Double](repeating: 0, count: 5)
                for j in 0..<5 {
                    var g = 0.0, u = 0.0
                    for i in 0..<3 {
                        g += x[b, t, i] * wg[i, j]
                        u += x[b, t, i] * wu[i, j]
                    }
                    hidden[j] = g / (1 + exp(-g)) * u
                }
                for o in 0..<3 {
                    var acc = 0.0
                    for j in 0..<5 { acc += hidden[j] * wd[j, o] }
                    #expect(Swift.abs(y[b, t, o] - acc) < 1e-12)
                }
            }
        }
    }

    @Test func gradientCheckOfInputsAndParameters() {
        var rng = RandomGenerator(seed: 3)
        let mlp = SwiGLU(width: 3, hidden: 4, dtype: .float64, generator: &rng)
        let x = Tensor.randomNormal([2, 3], dtype: .float64, generator: &rng)
        let inputs = GradientCheck.first(inputs: [x]) { t in mlp(t[0]) }
        #expect(inputs.passed, "\(inputs)")
        let parameters = GradientCheck.first(parameters: mlp.parameters()) { mlp(x) }
        #expect(parameters.passed, "\(parameters)")
    }

    @Test func initialisationIsSeeded() {
        var a = RandomGenerator(seed: 9), b = RandomGenerator(seed: 9)
        let m1 = SwiGLU(width: 4, hidden: 8, generator: &a), m2 = SwiGLU(width: 4, hidden: 8, generator: &b)
        #expect(zip(m1.parameters(), m2.parameters()).allSatisfy { $0.toArray() == $1.toArray() })
        #expect(m1.gate.weight.toArray() != m1.up.weight.toArray())
    }
}
