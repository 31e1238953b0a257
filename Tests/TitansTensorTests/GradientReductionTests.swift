import Testing
@testable import TitansTensor

/// Axis sets for reductions over a `[2, 3, 4]` input: all, single (positive and negative), adjacent and non-adjacent groups.
struct AxesCase: Sendable, CustomTestStringConvertible {
    let axes: [Int]?
    var testDescription: String { axes.map { "\($0)" } ?? "all" }
    static let all: [AxesCase] = [nil, [0], [1], [-1], [0, 1], [1, 2], [0, 2], [0, 1, 2]].map(AxesCase.init)
}

@Suite struct GradientReductionTests {
    @Test(arguments: AxesCase.all, [false, true])
    func sum(_ c: AxesCase, keepDims: Bool) {
        expectFirstOrder([Inputs.normal([2, 3, 4], seed: 41)]) { $0[0].sum(axes: c.axes, keepDims: keepDims) }
    }

    @Test(arguments: AxesCase.all, [false, true])
    func mean(_ c: AxesCase, keepDims: Bool) {
        expectFirstOrder([Inputs.normal([2, 3, 4], seed: 42)]) { $0[0].mean(axes: c.axes, keepDims: keepDims) }
    }

    @Test(arguments: AxesCase.all, [false, true])
    func max(_ c: AxesCase, keepDims: Bool) {
        // Pairwise distinct values (spacing 0.25): the maximum is unique and a 1e-6 perturbation cannot change it.
        expectFirstOrder([Inputs.distinct([2, 3, 4], seed: 43)]) { $0[0].max(axes: c.axes, keepDims: keepDims) }
    }

    @Test(arguments: AxesCase.all, [false, true])
    func logSumExp(_ c: AxesCase, keepDims: Bool) {
        expectFirstOrder([Inputs.normal([2, 3, 4], seed: 44)]) { $0[0].logSumExp(axes: c.axes, keepDims: keepDims) }
    }

    @Test func singleAxisForms() {
        let x = Inputs.distinct([3, 4], seed: 45)
        expectFirstOrder([x]) { $0[0].sum(axis: 1) }
        expectFirstOrder([x]) { $0[0].mean(axis: 0, keepDims: true) }
        expectFirstOrder([x]) { $0[0].max(axis: -1) }
        expectFirstOrder([x]) { $0[0].logSumExp(axis: 0, keepDims: true) }
    }

    @Test func reductionsOfViews() {
        let x = Inputs.distinct([4, 3, 2], seed: 46)
        expectFirstOrder([x]) { $0[0].permute([2, 0, 1]).sum(axes: [1]) }
        expectFirstOrder([x]) { $0[0].transposed(0, 2).max(axes: [0, 1], keepDims: true) }
        expectFirstOrder([x]) { $0[0].slice(axis: 0, start: 0, end: 4, step: 3).mean(axes: [0, 2]) }
        expectFirstOrder([x]) { $0[0].slice(axis: 1, start: 1, end: 3).logSumExp(axes: [-1]) }
        // Reducing an expanded view: every source element contributes once per copy.
        let y = Inputs.normal([3, 1], seed: 47)
        expectFirstOrder([y]) { $0[0].expand(to: [2, 3, 4]).sum(axes: [0, 2]) }
        expectFirstOrder([y]) { $0[0].expand(to: [3, 5]).logSumExp(axes: [1]) }
    }

    @Test func logSumExpOfLargeValues() {
        // The max shift keeps exp from overflowing; the gradient is still softmax(x).
        let x = Inputs.normal([2, 3], seed: 48) + 800
        expectFirstOrder([x.detach()]) { $0[0].logSumExp(axes: [1]) }
    }

    @Test(arguments: [[3, 1], [1, 4], [4], [], [2, 1, 4], [2, 3, 4], [1, 1]])
    func sumToShape(_ target: [Int]) {
        expectFirstOrder([Inputs.normal([2, 3, 4], seed: 49)]) { $0[0].sum(toShape: target) }
    }
}
