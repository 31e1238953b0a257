import Testing
@testable import TitansTensor

@Suite struct GradientViewTests {
    let x = Inputs.normal([2, 3, 4], seed: 51)

    @Test func reshape() {
        expectFirstOrder([x]) { $0[0].reshape([6, 4]) }
        expectFirstOrder([x]) { $0[0].reshape([4, -1]) }
        expectFirstOrder([x]) { $0[0].reshape([24]) }
        // Reshaping a non-contiguous view copies; the gradient must still reach the right elements.
        expectFirstOrder([x]) { $0[0].transposed().reshape([2, 12]) }
        expectFirstOrder([x]) { $0[0].unsqueeze(1).squeeze(1).unsqueeze(-1) }
        expectFirstOrder([Inputs.normal([3, 1, 2], seed: 52)]) { $0[0].squeeze(1) }
    }

    @Test func permuteAndTranspose() {
        expectFirstOrder([x]) { $0[0].permute([2, 0, 1]) }
        expectFirstOrder([x]) { $0[0].permute([1, 2, 0]).permute([2, 1, 0]) }
        expectFirstOrder([x]) { $0[0].transposed() }
        expectFirstOrder([x]) { $0[0].transposed(0, 2) }
        expectFirstOrder([x]) { $0[0].permute([-1, 0, 1]) }
    }

    @Test func slice() {
        expectFirstOrder([x]) { $0[0].slice(axis: 1, start: 1, end: 3) }
        expectFirstOrder([x]) { $0[0].slice(axis: -1, start: 0, end: 4, step: 2) }
        expectFirstOrder([x]) { $0[0].slice(axis: 2, start: 1, end: 4, step: 3) }
        expectFirstOrder([x]) { $0[0].slice(axis: 0, start: 1, end: 2).slice(axis: 2, start: 1, end: 4, step: 2) }
        // A slice of a transposed view, and overlapping slices of one leaf.
        expectFirstOrder([x]) { $0[0].transposed(0, 1).slice(axis: 0, start: 0, end: 3, step: 2) }
        expectFirstOrder([x]) { $0[0].slice(axis: 2, start: 0, end: 3) * $0[0].slice(axis: 2, start: 1, end: 4) }
    }

    @Test func select() {
        expectFirstOrder([x]) { $0[0].select(axis: 0, index: 1) }
        expectFirstOrder([x]) { $0[0].select(axis: -1, index: 2) }
        expectFirstOrder([x]) { $0[0].select(axis: 1, index: 0) + $0[0].select(axis: 1, index: 2) * 2 }
    }

    @Test func expand() {
        expectFirstOrder([Inputs.normal([3, 1], seed: 53)]) { $0[0].expand(to: [2, 3, 4]) }
        expectFirstOrder([Inputs.normal([4], seed: 54)]) { $0[0].expand(to: [3, 4]) }
        expectFirstOrder([Inputs.normal([], seed: 55)]) { $0[0].expand(to: [2, 2]) }
        expectFirstOrder([Inputs.normal([2, 1, 4], seed: 56)]) { $0[0].expand(to: [2, 3, 4]).transposed() }
    }

    @Test func paddedAndEmbed() {
        expectFirstOrder([x]) { $0[0].padded(axis: 1, before: 2, after: 1) }
        expectFirstOrder([x]) { $0[0].padded(axis: -1, before: 0, after: 3) }
        expectFirstOrder([x]) { $0[0].embed(into: [2, 3, 9], axis: 2, start: 1, step: 2) }
        expectFirstOrder([x]) { $0[0].embed(into: [5, 3, 4], axis: 0, start: 3) }
        expectFirstOrder([x]) { $0[0].transposed().embed(into: [2, 6, 3], axis: 1, start: 1, step: 1) }
    }

    @Test func contiguous() {
        expectFirstOrder([x]) { $0[0].contiguous() }
        expectFirstOrder([x]) { $0[0].transposed(0, 2).contiguous() }
        expectFirstOrder([x]) { $0[0].slice(axis: 1, start: 0, end: 3, step: 2).contiguous().exp() }
        expectFirstOrder([Inputs.normal([3], seed: 57)]) { $0[0].expand(to: [2, 3]).contiguous() }
    }

    @Test func conversionToFloat32AndBack() {
        // Float32 rounding would swamp a 1e-6 finite difference, so the check point and step are exact in float32:
        // multiples of 1/64 below 4 and epsilon 1/64 make x ± ε, their squares and both conversions exact,
        // and the central difference of a square is exactly 2x. The tolerances are the defaults.
        let x = Tensor(shape: [2, 3], [0.5, -1.25, 2.0, 0.078125, -3.5, 1.640625], dtype: .float64)
        expectFirstOrder([x], epsilon: 1.0 / 64) { $0[0].to(.float32).squared().to(.float64) }
        expectFirstOrder([x], epsilon: 1.0 / 64) { $0[0].to(.float64) * 3 }
    }

    @Test func conversionGradientKeepsEachDType() {
        let x = Tensor(shape: [3], [0.5, -1, 2], dtype: .float64).requiringGrad()
        let w = Tensor(shape: [3], [1.5, 2, -3], dtype: .float32)
        (x.to(.float32) * w).sum().backward()
        #expect(x.grad?.dtype == .float64)
        expectClose(x.grad?.toArray() ?? [], [1.5, 2, -3])

        let y = Tensor(shape: [2], [0.25, -4], dtype: .float32).requiringGrad()
        (y.to(.float64).squared()).sum().backward()
        #expect(y.grad?.dtype == .float32)
        expectClose(y.grad?.toArray() ?? [], [0.5, -8])
    }
}

@Suite struct GradientJoinTests {
    @Test func concatenate() {
        let a = Inputs.normal([2, 1, 3], seed: 61), b = Inputs.normal([2, 2, 3], seed: 62), c = Inputs.normal([2, 3, 3], seed: 63)
        expectFirstOrder([a, b, c]) { Tensor.concatenate($0, axis: 1) }
        expectFirstOrder([a, c]) { Tensor.concatenate([$0[0], $0[1], $0[0]], axis: -2) } // one input used twice
        expectFirstOrder([a, b]) { Tensor.concatenate([$0[0].transposed(), $0[1].transposed().exp()], axis: 2) }
        let d = Inputs.normal([1, 1, 3], seed: 64)
        expectFirstOrder([a, d]) { Tensor.concatenate([$0[0], $0[1]], axis: 0) }
    }

    @Test func stack() {
        let a = Inputs.normal([2, 3], seed: 65), b = Inputs.normal([2, 3], seed: 66)
        expectFirstOrder([a, b]) { Tensor.stack($0, axis: 0) }
        expectFirstOrder([a, b]) { Tensor.stack($0, axis: 1) }
        expectFirstOrder([a, b]) { Tensor.stack([$0[0], $0[1], $0[0].tanh()], axis: -1) }
    }

    @Test func split() {
        let x = Inputs.normal([2, 5, 3], seed: 67)
        // Pieces recombined in another order with different functions, so each piece's gradient is distinct.
        expectFirstOrder([x]) { t in
            let p = t[0].split(sizes: [1, 3, 1], axis: 1)
            return Tensor.concatenate([p[2] * 3, p[0].exp(), p[1].squared()], axis: 1)
        }
        expectFirstOrder([x]) { t in t[0].split(sizes: [2, 0, 1], axis: -1)[2] }
    }

    @Test func chunk() {
        let x = Inputs.normal([5, 2], seed: 68)
        expectFirstOrder([x]) { t in
            let p = t[0].chunk(3, axis: 0) // sizes 2, 2, 1
            return p[0] * p[1] + p[2].sigmoid()
        }
        expectFirstOrder([x]) { t in Tensor.concatenate(t[0].chunk(2, axis: 1).reversed(), axis: 1) }
    }
}

@Suite struct GradientGatherTests {
    @Test func indexSelect() {
        let table = Inputs.normal([5, 3], seed: 71)
        // Repeated indices: the gradient of a row is the sum over every lookup of it.
        let ids = Inputs.indices([2, 3], [4, 0, 4, 1, 1, 4])
        expectFirstOrder([table]) { $0[0].indexSelect(axis: 0, indices: ids) }
        expectFirstOrder([table]) { $0[0].indexSelect(axis: 1, indices: Inputs.indices([4], [2, 0, 2, 2])) }
        expectFirstOrder([table]) { $0[0].transposed().indexSelect(axis: -1, indices: Inputs.indices([2], [3, 3])) }
    }

    @Test func indexAdd() {
        let source = Inputs.normal([2, 3, 2], seed: 72)
        expectFirstOrder([source]) { $0[0].indexAdd(axis: 0, indices: Inputs.indices([2, 3], [1, 0, 1, 3, 3, 3]), length: 4) }
        expectFirstOrder([source]) { $0[0].indexAdd(axis: 1, indices: Inputs.indices([3], [2, 2, 0]), length: 3) }
        expectFirstOrder([source]) { $0[0].transposed(0, 2).indexAdd(axis: 2, indices: Inputs.indices([2], [0, 0]), length: 1) }
    }

    @Test func takeAlongAxis() {
        let x = Inputs.normal([3, 4], seed: 73)
        expectFirstOrder([x]) { $0[0].take(alongAxis: 1, indices: Inputs.indices([3], [3, 0, 3])) }
        expectFirstOrder([x]) { $0[0].take(alongAxis: 0, indices: Inputs.indices([4], [2, 2, 0, 1])) }
        let y = Inputs.normal([2, 3, 4], seed: 74)
        expectFirstOrder([y]) { $0[0].take(alongAxis: 1, indices: Inputs.indices([2, 4], [0, 1, 2, 0, 2, 2, 1, 0])) }
        expectFirstOrder([y]) { $0[0].permute([2, 0, 1]).take(alongAxis: -1, indices: Inputs.indices([4, 2], [0, 1, 2, 0, 2, 2, 1, 0])) }
    }

    @Test func putAlongAxis() {
        let x = Inputs.normal([3], seed: 75)
        expectFirstOrder([x]) { $0[0].put(alongAxis: 1, indices: Inputs.indices([3], [3, 0, 3]), shape: [3, 4]) }
        let y = Inputs.normal([2, 4], seed: 76)
        expectFirstOrder([y]) { $0[0].put(alongAxis: 1, indices: Inputs.indices([2, 4], [0, 1, 2, 0, 2, 2, 1, 0]), shape: [2, 3, 4]) }
        expectFirstOrder([y]) { $0[0].transposed().put(alongAxis: 0, indices: Inputs.indices([4, 2], [1, 1, 0, 0, 1, 0, 0, 1]), shape: [2, 4, 2]) }
    }
}
