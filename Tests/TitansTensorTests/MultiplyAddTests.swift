import Testing
@testable import TitansTensor

/// The fused `a ⊙ s + c` against the two ops it replaces, and its gradients of first and second order.
struct MultiplyAddTests {
    /// Shapes of a, s and c: all equal (the contiguous loop), a scale per row (a decaying state), broadcast addend,
    /// scalars, and a transposed (strided) operand.
    static let shapes: [[[Int]]] = [
        [[2, 3, 4], [2, 3, 4], [2, 3, 4]], [[2, 3, 4, 5], [2, 3, 1, 1], [2, 3, 4, 5]], [[2, 3, 4], [4], [3, 1]],
        [[3], [], [3]], [[1, 4], [2, 1], [2, 4]],
    ]

    @Test(arguments: shapes)
    func equalsProductThenSum(_ shapes: [[Int]]) {
        let (a, s, c) = (Inputs.normal(shapes[0], seed: 1), Inputs.normal(shapes[1], seed: 2), Inputs.normal(shapes[2], seed: 3))
        let fused = a.multiplyAdd(s, c), composed = a * s + c
        #expect(fused.shape == composed.shape)
        #expect(zip(fused.toArray(), composed.toArray()).allSatisfy { Swift.abs($0 - $1) < 1e-15 })
        let t = Inputs.normal([4, 3], seed: 4).transposed()  // strided
        #expect(t.multiplyAdd(t, t).toArray() == (t * t + t).toArray())
        let f32 = a.to(.float32).multiplyAdd(s.to(.float32), c.to(.float32)).toArray()
        #expect(zip(f32, composed.toArray()).allSatisfy { Swift.abs($0 - $1) < 1e-5 })
    }

    @Test(arguments: shapes)
    func gradients(_ shapes: [[Int]]) {
        let inputs = shapes.enumerated().map { Inputs.normal($1, seed: UInt64(10 + $0)) }
        expectFirstOrder(inputs) { $0[0].multiplyAdd($0[1], $0[2]) }
        expectSecondOrder(inputs) { $0[0].multiplyAdd($0[1].tanh(), $0[2].silu()).squared() }
    }
}
