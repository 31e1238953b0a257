import Testing
import Foundation
@testable import TitansTensor

/// The behaviour of the tape itself, checked against hand-derived gradients.
@Suite struct AutodiffAccumulationTests {
    @Test func broadcastOperandGetsSummedGradient() {
        let x = Tensor(shape: [3], [1, 2, 3], dtype: .float64).requiringGrad()
        let m = Tensor(shape: [2, 3], [1, 2, 3, 4, 5, 6], dtype: .float64).requiringGrad()
        let y = (m + x) * Tensor(shape: [2, 3], [1, 10, 100, 2, 20, 200], dtype: .float64)
        y.sum().backward()
        // d/dx_j = Σ_i w[i, j]; d/dm = w.
        expectClose(x.grad!.toArray(), [3, 30, 300])
        expectClose(m.grad!.toArray(), [1, 10, 100, 2, 20, 200])
        #expect(x.grad!.shape == [3])
    }

    @Test func viewsOfOneLeafAccumulate() {
        // y = Σ slice(x)[i, j] * 2 + Σ xᵀ[j, i] * 3: elements in the slice get 5, the rest 3.
        let x = Tensor(shape: [2, 3], [1, 2, 3, 4, 5, 6], dtype: .float64).requiringGrad()
        let y = (x.slice(axis: 1, start: 1, end: 3) * 2).sum() + (x.transposed() * 3).sum()
        y.backward()
        expectClose(x.grad!.toArray(), [3, 5, 5, 3, 5, 5])
        // A product of two views: d/dx of Σ_j x[0, j] x[1, j] is the other row.
        let z = Tensor(shape: [2, 3], [1, 2, 3, 4, 5, 6], dtype: .float64).requiringGrad()
        (z.select(axis: 0, index: 0) * z.transposed().select(axis: 1, index: 1)).sum().backward()
        expectClose(z.grad!.toArray(), [4, 5, 6, 1, 2, 3])
    }

    /// Slices add their gradients into their windows of one sum in place (first order) and embed them (with a graph
    /// to keep): overlapping, strided, beside a direct use, the same result, and the second order still follows.
    @Test func sliceGradientsAccumulateInPlace() {
        let values = (0..<30).map { Double($0) / 10 }
        let x = Tensor(shape: [3, 10], values, dtype: .float64).requiringGrad()
        func y(_ x: Tensor) -> Tensor {
            (x.slice(axis: 1, start: 0, end: 6) * 2).sum() + x.slice(axis: 1, start: 4, end: 10).squared().sum()
                + x.slice(axis: 1, start: 1, end: 10, step: 3).sum() + x.sum() + x.select(axis: 0, index: 2).sum()
        }
        let expected = values.indices.map { i -> Double in
            let (row, column) = (i / 10, i % 10)
            return (column < 6 ? 2 : 0) + (column >= 4 ? 2 * values[i] : 0) + (column % 3 == 1 ? 1 : 0) + 1 + (row == 2 ? 1 : 0)
        }
        expectClose(Tensor.gradients(of: y(x), withRespectTo: [x])[0].toArray(), expected, tolerance: 1e-12)
        let withGraph = Tensor.gradients(of: y(x), withRespectTo: [x], createGraph: true)[0]
        expectClose(withGraph.toArray(), expected, tolerance: 1e-12)
        // d/dx of Σ (dy/dx)² = 2 (dy/dx) · 2 on the squared columns.
        let second = Tensor.gradients(of: withGraph.squared().sum(), withRespectTo: [x])[0]
        expectClose(second.toArray(), values.indices.map { $0 % 10 >= 4 ? 4 * expected[$0] : 0 }, tolerance: 1e-12)
        // The input of many chunk slices (a sequence read a chunk at a time) gets each chunk's gradient once.
        let sequence = Tensor(shape: [2, 64], (0..<128).map { Double($0) }, dtype: .float64).requiringGrad()
        let chunks = stride(from: 0, to: 64, by: 8).map { sequence.slice(axis: 1, start: $0, end: $0 + 8).squared() }
        Tensor.concatenate(chunks, axis: 1).sum().backward()
        expectClose(sequence.grad!.toArray(), (0..<128).map { 2 * Double($0) })
    }

    @Test func tensorUsedMoreThanOnce() {
        let x = Tensor(shape: [4], [-1.5, 0, 0.5, 3], dtype: .float64).requiringGrad()
        let y = x * x + x
        let g = Tensor.gradients(of: y.sum(), withRespectTo: [x])[0]
        expectClose(g.toArray(), [-2, 1, 2, 7]) // 2x + 1
        // A diamond: u feeds two branches that meet again.
        let u = x.exp()
        let z = (u * 2 + u.squared()).sum()
        let gz = Tensor.gradients(of: z, withRespectTo: [x])[0]
        let expected = [-1.5, 0, 0.5, 3].map { v in 2 * Foundation.exp(v) + 2 * Foundation.exp(2 * v) }
        expectClose(gz.toArray(), expected, tolerance: 1e-9)
    }

    @Test func backwardAccumulatesAcrossCalls() {
        let x = Tensor(shape: [3], [1, -2, 0.5], dtype: .float64).requiringGrad()
        (x * x).sum().backward()
        expectClose(x.grad!.toArray(), [2, -4, 1])
        (x * 3).sum().backward()
        expectClose(x.grad!.toArray(), [5, -1, 4])
        x.grad = nil
        x.sum().backward()
        expectClose(x.grad!.toArray(), [1, 1, 1])
    }

    @Test func tiesShareTheGradientEvenly() {
        // At a tie max and maximum/minimum are not differentiable; the convention splits the gradient evenly
        // (the central finite difference at such a point gives the same split).
        let x = Tensor(shape: [2, 3], [1, 3, 3, 2, 2, 2], dtype: .float64).requiringGrad()
        let g = Tensor.gradients(of: x.max(axis: 1).sum(), withRespectTo: [x])[0]
        expectClose(g.toArray(), [0, 0.5, 0.5, 1.0 / 3, 1.0 / 3, 1.0 / 3])
        let a = Tensor(shape: [3], [1, 2, 5], dtype: .float64).requiringGrad()
        let b = Tensor(shape: [3], [1, 4, 0], dtype: .float64).requiringGrad()
        let gMax = Tensor.gradients(of: a.maximum(b).sum(), withRespectTo: [a, b])
        expectClose(gMax[0].toArray(), [0.5, 0, 1])
        expectClose(gMax[1].toArray(), [0.5, 1, 0])
        let gMin = Tensor.gradients(of: a.minimum(b).sum(), withRespectTo: [a, b])
        expectClose(gMin[0].toArray(), [0.5, 1, 0])
        expectClose(gMin[1].toArray(), [0.5, 0, 1])
    }

    @Test func kinksUseTheConventionalOneSidedValues() {
        // relu'(0) = 0, |x|'(0) = 0, and clamp passes the gradient at its bounds (as PyTorch does).
        let x = Tensor(shape: [5], [-1, 0, 0.5, 1, 2], dtype: .float64).requiringGrad()
        expectClose(Tensor.gradients(of: x.relu().sum(), withRespectTo: [x])[0].toArray(), [0, 0, 1, 1, 1])
        expectClose(Tensor.gradients(of: x.abs().sum(), withRespectTo: [x])[0].toArray(), [-1, 0, 1, 1, 1])
        expectClose(Tensor.gradients(of: x.clamp(min: 0, max: 1).sum(), withRespectTo: [x])[0].toArray(), [0, 1, 1, 1, 0])
    }

    @Test func backwardWithSeed() {
        let x = Tensor(shape: [2], [1, 2], dtype: .float64).requiringGrad()
        let y = x.squared()
        y.backward(seed: Tensor(shape: [2], [10, -1], dtype: .float64))
        expectClose(x.grad!.toArray(), [20, -4])
        let g = Tensor.gradients(of: y, withRespectTo: [x], seed: Tensor(shape: [2], [1, 0.5], dtype: .float64))[0]
        expectClose(g.toArray(), [2, 2])
    }

    @Test func backwardFillsEveryLeafButNotIntermediates() {
        let a = Tensor(shape: [2], [1, 2], dtype: .float64).requiringGrad()
        let b = Tensor(shape: [2], [3, 4], dtype: .float64).requiringGrad()
        let constant = Tensor(shape: [2], [5, 6], dtype: .float64)
        let hidden = a * b
        (hidden * constant).sum().backward()
        expectClose(a.grad!.toArray(), [15, 24])
        expectClose(b.grad!.toArray(), [5, 12])
        #expect(constant.grad == nil)
        #expect(hidden.grad == nil)
    }
}

@Suite struct AutodiffGraphTests {
    @Test func inputsOutsideTheGraphGetZeros() {
        let x = Tensor(shape: [2], [1, 2], dtype: .float64).requiringGrad()
        let unused = Tensor(shape: [3, 1], [7, 8, 9], dtype: .float64).requiringGrad()
        let notTracked = Tensor(shape: [2], [1, 1], dtype: .float32)
        let grads = Tensor.gradients(of: x.squared().sum(), withRespectTo: [x, unused, notTracked])
        expectClose(grads[0].toArray(), [2, 4])
        #expect(grads[1].shape == [3, 1] && grads[1].dtype == .float64)
        expectClose(grads[1].toArray(), [0, 0, 0])
        #expect(grads[2].shape == [2] && grads[2].dtype == .float32)
        expectClose(grads[2].toArray(), [0, 0])
    }

    @Test func gradientWithRespectToIntermediateTensors() {
        let x = Tensor(shape: [3], [0.5, -1, 2], dtype: .float64).requiringGrad()
        let h = x * 2          // non-leaf
        let s = h.exp()        // non-leaf
        let y = (s * h).sum()  // dy/dh = e^h + h e^h; dy/ds = h
        let grads = Tensor.gradients(of: y, withRespectTo: [h, s, x])
        let hv = [1.0, -2, 4]
        expectClose(grads[0].toArray(), hv.map { Foundation.exp($0) * (1 + $0) }, tolerance: 1e-9)
        expectClose(grads[1].toArray(), hv)
        expectClose(grads[2].toArray(), hv.map { 2 * Foundation.exp($0) * (1 + $0) }, tolerance: 1e-9)
        #expect(h.grad == nil, "gradients(of:) does not write .grad")
        #expect(x.grad == nil, "gradients(of:) does not write .grad")
    }

    @Test func withoutGradientsRecordsNothing() {
        let x = Tensor(shape: [2], [1, 2], dtype: .float64).requiringGrad()
        let y = withoutGradients { (x * x).exp().sum() }
        #expect(!y.requiresGrad)
        #expect(y.isLeaf)
        #expect(GradMode.isEnabled, "the mode is restored afterwards")
        let nested = withoutGradients { GradMode.with(enabled: true) { x * 2 } }
        #expect(nested.requiresGrad, "recording can be re-enabled inside")
        #expect((x * 2).requiresGrad)
    }

    @Test func detachStopsGradients() {
        let x = Tensor(shape: [3], [1, 2, 3], dtype: .float64).requiringGrad()
        let d = x.detach()
        #expect(!d.requiresGrad && d.isLeaf)
        #expect(d.storage === x.storage, "detach shares storage")
        // y = x · stopgrad(x): the gradient is stopgrad(x) alone, not 2x.
        let g = Tensor.gradients(of: (x * x.detach()).sum(), withRespectTo: [x])[0]
        expectClose(g.toArray(), [1, 2, 3])
        // Detaching an intermediate cuts everything behind it.
        let h = (x.exp() * 2).detach().requiringGrad()
        let gx = Tensor.gradients(of: (h * x).sum(), withRespectTo: [x, h])
        expectClose(gx[0].toArray(), [1, 2, 3].map { 2 * Foundation.exp($0) }, tolerance: 1e-9)
        expectClose(gx[1].toArray(), [1, 2, 3])
    }

    @Test func createGraphFalseGivesPlainTensors() {
        let x = Tensor(shape: [3], [1, 2, 3], dtype: .float64).requiringGrad()
        let g = Tensor.gradients(of: x.pow(3).sum(), withRespectTo: [x], createGraph: false)[0]
        expectClose(g.toArray(), [3, 12, 27], tolerance: 1e-12)
        #expect(!g.requiresGrad)
        #expect(g.isLeaf)
        x.pow(3).sum().backward()
        #expect(!x.grad!.requiresGrad)
    }

    @Test func createGraphTrueGivesDifferentiableGradients() {
        let x = Tensor(shape: [3], [1, 2, 3], dtype: .float64).requiringGrad()
        let g = Tensor.gradients(of: x.pow(3).sum(), withRespectTo: [x], createGraph: true)[0] // 3x²
        #expect(g.requiresGrad)
        expectClose(g.toArray(), [3, 12, 27], tolerance: 1e-12)
        let gg = Tensor.gradients(of: g.sum(), withRespectTo: [x])[0]                         // 6x
        expectClose(gg.toArray(), [6, 12, 18], tolerance: 1e-12)
        // backward(createGraph: true) stores a differentiable .grad as well.
        let y = Tensor(shape: [2], [2, -1], dtype: .float64).requiringGrad()
        (y.squared() * y).sum().backward(createGraph: true)
        #expect(y.grad!.requiresGrad)
        expectClose(Tensor.gradients(of: y.grad!.sum(), withRespectTo: [y])[0].toArray(), [12, -6])
    }

    @Test func thirdAndFourthOrderDerivatives() {
        // f(x) = x⁴: f' = 4x³, f'' = 12x², f''' = 24x, f'''' = 24.
        let x = Tensor(shape: [3], [-1, 0.5, 2], dtype: .float64).requiringGrad()
        let f = x.pow(4).sum()
        let d1 = Tensor.gradients(of: f, withRespectTo: [x], createGraph: true)[0]
        let d2 = Tensor.gradients(of: d1.sum(), withRespectTo: [x], createGraph: true)[0]
        let d3 = Tensor.gradients(of: d2.sum(), withRespectTo: [x], createGraph: true)[0]
        let d4 = Tensor.gradients(of: d3.sum(), withRespectTo: [x], createGraph: true)[0]
        expectClose(d1.toArray(), [-4, 0.5, 32], tolerance: 1e-12)
        expectClose(d2.toArray(), [12, 3, 48], tolerance: 1e-12)
        expectClose(d3.toArray(), [-24, 12, 48], tolerance: 1e-12)
        expectClose(d4.toArray(), [24, 24, 24], tolerance: 1e-12)

        // f(x) = exp(2x) · x: f''' = e^{2x} (8x + 12).
        let y = Tensor(shape: [2], [0.3, -0.7], dtype: .float64).requiringGrad()
        var g = (y * 2).exp() * y
        for _ in 0..<3 { g = Tensor.gradients(of: g.sum(), withRespectTo: [y], createGraph: true)[0] }
        expectClose(g.toArray(), [0.3, -0.7].map { Foundation.exp(2 * $0) * (8 * $0 + 12) }, tolerance: 1e-10)

        // Third order of a composite through a sigmoid, against a finite difference of the analytic second derivative:
        // σ'' = σ(1-σ)(1-2σ), so σ''' = σ(1-σ)(1 - 6σ + 6σ²).
        let z = Tensor(shape: [2], [0.4, -1.3], dtype: .float64).requiringGrad()
        var h = z.sigmoid()
        for _ in 0..<3 { h = Tensor.gradients(of: h.sum(), withRespectTo: [z], createGraph: true)[0] }
        let expected = [0.4, -1.3].map { v -> Double in
            let s = 1 / (1 + Foundation.exp(-v))
            return s * (1 - s) * (1 - 6 * s + 6 * s * s)
        }
        expectClose(h.toArray(), expected, tolerance: 1e-12)
    }

    @Test func deepChainBackpropagatesWithoutStackOverflow() {
        let x = Tensor(shape: [2], [1, 2], dtype: .float64).requiringGrad()
        let c = Tensor(shape: [2], [0.5, 0.25], dtype: .float64)
        var y = x
        for _ in 0..<20_000 { y = y + c }
        let g = Tensor.gradients(of: (y * x).sum(), withRespectTo: [x])[0]
        // y = x + 20000 c, so d/dx Σ y·x = 2x + 20000 c.
        expectClose(g.toArray(), [2 + 10_000, 4 + 5_000])
        y.sum().backward()
        expectClose(x.grad!.toArray(), [1, 1])
    }

    @Test func deepChainOfViewsAndScans() {
        // Long alternating chain of view and arithmetic nodes (as many small chunks would build).
        let x = Tensor(shape: [2, 2], [1, 2, 3, 4], dtype: .float64).requiringGrad()
        var y = x
        for _ in 0..<5_000 { y = y.transposed() * 1.0 }
        let g = Tensor.gradients(of: (y * Tensor(shape: [2, 2], [1, 2, 3, 4], dtype: .float64)).sum(), withRespectTo: [x])[0]
        // An even number of transposes: y = x.
        expectClose(g.toArray(), [1, 2, 3, 4])
    }

    @Test func requiresGradPropagation() {
        let a = Tensor(shape: [2], [1, 2], dtype: .float64)
        let b = Tensor(shape: [2], [1, 2], dtype: .float64).requiringGrad()
        #expect(!(a * 2).requiresGrad)
        #expect((a * b).requiresGrad)
        #expect(b.isLeaf && !(a * b).isLeaf)
        #expect(!b.requiringGrad(false).requiresGrad)
        // Comparisons carry no history.
        #expect(!b.requiringGrad().greater(than: a).requiresGrad)
    }
}

/// Recording is task-local: disabling it in one task must not affect ops running concurrently in another.
@Suite struct AutodiffConcurrencyTests {
    @Test func gradModeIsIsolatedPerTask() async {
        await withTaskGroup(of: Bool.self) { group in
            for i in 0..<8 {
                group.addTask {
                    var allRecorded = true
                    for _ in 0..<200 {
                        if i % 2 == 0 {
                            _ = withoutGradients { Tensor.zeros([2]).exp() }
                        } else {
                            let x = Tensor.zeros([2]).requiringGrad()
                            allRecorded = allRecorded && (x * 2).requiresGrad
                        }
                    }
                    return allRecorded
                }
            }
            for await ok in group { #expect(ok) }
        }
    }
}

/// Leaf gradients are values the caller owns: dense, and never the same storage as another leaf's or the seed.
@Suite struct LeafGradientOwnershipTests {
    @Test func leavesGetTheirOwnDenseGradients() {
        let a = Tensor(shape: [2, 2], [1, 2, 3, 4], dtype: .float64).requiringGrad()
        let b = Tensor(shape: [2, 2], [5, 6, 7, 8], dtype: .float64).requiringGrad()
        let seed = Tensor(shape: [2, 2], [1, 1, 1, 1], dtype: .float64)
        (a + b).backward(seed: seed)
        #expect(a.grad!.storage !== b.grad!.storage)
        #expect(a.grad!.storage !== seed.storage)
        let x = Tensor(shape: [3], [1, 2, 3], dtype: .float64).requiringGrad()
        x.sum().backward()
        #expect(x.grad!.isContiguous && x.grad!.strides == [1])
        expectClose(x.grad!.toArray(), [1, 1, 1])
    }

    /// d(a^b)/db = a^b log a is taken as 0 at a = 0 (PyTorch's convention), not NaN, at first and second order.
    @Test func powGradientWithRespectToTheExponentAtAZeroBase() {
        let a = Tensor(shape: [2], [0, 2], dtype: .float64)
        let b = Tensor(shape: [2], [2, 3], dtype: .float64).requiringGrad()
        let g = Tensor.gradients(of: a.pow(b).sum(), withRespectTo: [b], createGraph: true)[0]
        expectClose(g.toArray(), [0, 8 * Foundation.log(2)], tolerance: 1e-12)
        let gg = Tensor.gradients(of: g.sum(), withRespectTo: [b])[0]
        expectClose(gg.toArray(), [0, 8 * Foundation.log(2) * Foundation.log(2)], tolerance: 1e-12)
    }
}
