import Testing
@testable import TitansTensor

/// The self-test that holds a GPU backend to the CPU's, checked here with a backend that is the CPU's but for one
/// function, which it gets slightly wrong: exactly the checks of that function must fail.
struct BackendSelfTestTests {
    /// The CPU backend, but sigmoid's first output element is off by `error`.
    struct SkewedSigmoid: ComputeBackend {
        let error: Double
        let cpu = CPUBackend.shared
        func unary(_ f: UnaryFunction, _ x: Tensor, into out: Tensor) {
            cpu.unary(f, x, into: out)
            guard case .sigmoid = f else { return }
            let first = out.reshape([-1]).slice(axis: 0, start: 0, end: 1)  // a view of the contiguous output
            cpu.binary(.add, first, Tensor.full([1], value: error, dtype: out.dtype), into: first)
        }
        func binary(_ f: BinaryFunction, _ a: Tensor, _ b: Tensor, into out: Tensor) { cpu.binary(f, a, b, into: out) }
        func select(_ m: Tensor, _ a: Tensor, _ b: Tensor, into out: Tensor) { cpu.select(m, a, b, into: out) }
        func multiplyAdd(_ a: Tensor, _ s: Tensor, _ c: Tensor, into out: Tensor) { cpu.multiplyAdd(a, s, c, into: out) }
        func copy(_ source: Tensor, into out: Tensor) { cpu.copy(source, into: out) }
        func matmul(_ a: Tensor, _ b: Tensor, into out: Tensor) { cpu.matmul(a, b, into: out) }
        func reduce(_ r: Reduction, _ x: Tensor, outer: Int, length: Int, inner: Int, into out: Tensor) {
            cpu.reduce(r, x, outer: outer, length: length, inner: inner, into: out)
        }
        func argmax(_ x: Tensor, outer: Int, length: Int, inner: Int) -> [Int] { cpu.argmax(x, outer: outer, length: length, inner: inner) }
        func cumulativeSum(_ x: Tensor, outer: Int, length: Int, inner: Int, reverse: Bool, into out: Tensor) {
            cpu.cumulativeSum(x, outer: outer, length: length, inner: inner, reverse: reverse, into: out)
        }
        func linearScan(_ a: Tensor, _ b: Tensor, initial: Tensor, outer: Int, length: Int, inner: Int, reverse: Bool, into out: Tensor) {
            cpu.linearScan(a, b, initial: initial, outer: outer, length: length, inner: inner, reverse: reverse, into: out)
        }
        func softmax(_ x: Tensor, outer: Int, length: Int, inner: Int, log: Bool, into out: Tensor) {
            cpu.softmax(x, outer: outer, length: length, inner: inner, log: log, into: out)
        }
        func normalizeRows(_ x: Tensor, weight: Tensor?, divisor: Double, epsilon: Double, rows: Int, width: Int, into out: Tensor) {
            cpu.normalizeRows(x, weight: weight, divisor: divisor, epsilon: epsilon, rows: rows, width: width, into: out)
        }
        func rotateHalves(_ x: Tensor, cos: Tensor, sin: Tensor, rows: Int, positions: Int, width: Int, into out: Tensor) {
            cpu.rotateHalves(x, cos: cos, sin: sin, rows: rows, positions: positions, width: width, into: out)
        }
        func indexSelect(_ x: Tensor, indices: [Int], outer: Int, length: Int, inner: Int, into out: Tensor) {
            cpu.indexSelect(x, indices: indices, outer: outer, length: length, inner: inner, into: out)
        }
        func indexAdd(_ x: Tensor, indices: [Int], outer: Int, length: Int, inner: Int, into out: Tensor) {
            cpu.indexAdd(x, indices: indices, outer: outer, length: length, inner: inner, into: out)
        }
        func take(_ x: Tensor, indices: [Int], outer: Int, length: Int, inner: Int, into out: Tensor) {
            cpu.take(x, indices: indices, outer: outer, length: length, inner: inner, into: out)
        }
        func put(_ x: Tensor, indices: [Int], outer: Int, length: Int, inner: Int, into out: Tensor) {
            cpu.put(x, indices: indices, outer: outer, length: length, inner: inner, into: out)
        }
    }

    @Test func aKernelOffByMoreThanTheToleranceFailsAndOnlyIt() {
        for (error, sigmoidFails) in [(1e-3, true), (1e-13, false)] {
            let checks = BackendSelfTest.kernels(SkewedSigmoid(error: error))
            let failed = checks.filter { !$0.passed }
            if sigmoidFails {
                #expect(failed.map(\.name).sorted() == ["unary sigmoid", "unary sigmoid", "unary sigmoid, strided input",
                                                         "unary sigmoid, strided input"], "\(failed)")
            } else {
                #expect(failed.isEmpty, "\(failed)")
            }
        }
    }

    @Test func everyKernelOfTheSeamIsChecked() {
        let names = BackendSelfTest.kernelCases(.float32).map(\.name)
        for kernel in ["unary", "binary", "select", "multiplyAdd", "copy", "matmul", "reduce", "argmax", "cumulativeSum",
                       "linearScan", "softmax", "normalizeRows", "rotateHalves", "indexSelect", "indexAdd", "take", "put"] {
            #expect(names.contains { $0.hasPrefix(kernel) }, "no check of \(kernel)")
        }
    }

    @Test func theWorstErrorTreatsNaNAndInfinityAsTheCPUGivesThem() {
        #expect(BackendSelfTest.worstError([1, .nan, .infinity], [1, .nan, .infinity]) == 0)
        #expect(BackendSelfTest.worstError([1, 2], [1, .nan]) == .infinity)
        #expect(BackendSelfTest.worstError([3, 1.5], [2, 1]) == 0.5)  // relative above 1, absolute below
    }

    @Test func everyOperationCaseGivesTheSameFiniteNumbersEachRun() {
        for dtype in DType.allCases {
            for operation in BackendSelfTest.operationCases(dtype) {
                let first = operation.run(), second = operation.run()
                #expect(!first.isEmpty && first.allSatisfy(\.isFinite), "\(operation.name) (\(dtype))")
                #expect(first == second, "\(operation.name) (\(dtype)) is not deterministic, so no device could be held to it")
            }
        }
    }
}
