import Foundation
import Testing
@testable import TitansNN

@Suite("Gradient clipping and scaling")
struct GradientClippingTests {
    /// Two parameters whose gradients have a global norm of 13 (3, 4 and 12).
    private func parameters() -> [Tensor] {
        let a = Tensor.zeros([2], dtype: .float64)
        let b = Tensor.zeros([1, 1])
        let c = Tensor.zeros([5])
        a.grad = Tensor(shape: [2], [3, 4], dtype: .float64)
        b.grad = Tensor(shape: [1, 1], [12])
        // c has no gradient and is skipped.
        return [a, b, c]
    }

    @Test func clipsAboveTheMaximumAndReturnsTheNormBefore() {
        let ps = parameters()
        let norm = clipGradientNorm(ps, maxNorm: 6.5)
        #expect(norm == 13)
        #expect(ps[0].grad!.toArray() == [1.5, 2])
        #expect(ps[1].grad!.toArray() == [6])
        #expect(ps[2].grad == nil)
        #expect(Swift.abs(gradientNorm(ps) - 6.5) < 1e-12)
    }

    @Test func leavesGradientsAtOrBelowTheMaximum() {
        for maxNorm in [13.0, 100] {
            let ps = parameters()
            #expect(clipGradientNorm(ps, maxNorm: maxNorm) == 13)
            #expect(ps[0].grad!.toArray() == [3, 4])
            #expect(ps[1].grad!.toArray() == [12])
        }
    }

    @Test func nonFiniteNormsAreReturnedWithoutScaling() {
        for bad in [Double.nan, .infinity] {
            let ps = parameters()
            ps[1].grad = Tensor(shape: [1, 1], [bad])
            let norm = clipGradientNorm(ps, maxNorm: 1)
            #expect(bad.isNaN ? norm.isNaN : norm == .infinity)
            #expect(ps[0].grad!.toArray() == [3, 4])
        }
    }

    @Test func noGradientsGiveZero() {
        #expect(clipGradientNorm([Tensor.ones([3])], maxNorm: 1) == 0)
        #expect(clipGradientNorm([], maxNorm: 1) == 0)
    }

    @Test func accumulationThenScalingGivesTheMeanGradient() {
        let x = Tensor(shape: [3], [1, 2, 3], dtype: .float64).requiringGrad()
        let batches = [Tensor(shape: [3], [1, 0, 2], dtype: .float64), Tensor(shape: [3], [3, 4, 0], dtype: .float64)]
        for batch in batches { (x * batch).sum().backward() }  // gradients add: [4, 4, 2]
        #expect(x.grad!.toArray() == [4, 4, 2])
        scaleGradients([x], by: 1.0 / Double(batches.count))
        #expect(x.grad!.toArray() == [2, 2, 1])
    }

    @Test func aTensorListedTwiceIsScaledOnce() {
        let x = Tensor.zeros([2])
        x.grad = Tensor(shape: [2], [2, 4])
        scaleGradients([x, x], by: 0.5)
        #expect(x.grad!.toArray() == [1, 2])
        #expect(Swift.abs(gradientNorm([x, x]) - 5.0.squareRoot()) < 1e-6)
    }
}
