import Testing
import TitansTensor

@Test func smokeGradcheck() {
    var rng = RandomGenerator(seed: 7)
    let a = Tensor.randomNormal([2, 3, 4], dtype: .float64, generator: &rng)
    let b = Tensor.randomNormal([4, 5], dtype: .float64, generator: &rng)
    let r1 = GradientCheck.first(inputs: [a, b]) { t in t[0].matmul(t[1]).silu() }
    #expect(r1.passed, "\(r1)")
    let r2 = GradientCheck.second(inputs: [a, b]) { t in t[0].matmul(t[1]).gelu() }
    #expect(r2.passed, "\(r2)")
    let x = Tensor.randomUniform([2, 5, 3], dtype: .float64, generator: &rng)
    let y = Tensor.randomNormal([2, 5, 3], dtype: .float64, generator: &rng)
    let h = Tensor.randomNormal([2, 1, 3], dtype: .float64, generator: &rng)
    for rev in [false, true] {
        let r3 = GradientCheck.second(inputs: [x, y, h]) { t in Tensor.linearScan(t[0], t[1], axis: 1, initial: t[2], reverse: rev) }
        #expect(r3.passed, "\(r3)")
    }
}
