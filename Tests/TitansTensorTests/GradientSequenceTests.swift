import Testing
@testable import TitansTensor

@Suite struct GradientScanTests {
    @Test(arguments: [0, 1, 2, -1], [false, true])
    func cumulativeSum(axis: Int, reverse: Bool) {
        expectFirstOrder([Inputs.normal([2, 3, 4], seed: 81)]) { $0[0].cumulativeSum(axis: axis, reverse: reverse) }
    }

    @Test(arguments: [false, true])
    func cumulativeSumOfViews(reverse: Bool) {
        let x = Inputs.normal([4, 3], seed: 82)
        expectFirstOrder([x]) { $0[0].transposed().cumulativeSum(axis: 1, reverse: reverse) }
        expectFirstOrder([x]) { $0[0].slice(axis: 0, start: 0, end: 4, step: 2).cumulativeSum(axis: 0, reverse: reverse) }
    }

    @Test(arguments: [false, true])
    func linearScan(reverse: Bool) {
        let a = Inputs.uniform([2, 5, 3], seed: 83, low: 0.2, high: 1.1)
        let b = Inputs.normal([2, 5, 3], seed: 84)
        expectFirstOrder([a, b]) { Tensor.linearScan($0[0], $0[1], axis: 1, reverse: reverse) }
    }

    @Test(arguments: [false, true])
    func linearScanWithInitialState(reverse: Bool) {
        let a = Inputs.uniform([2, 5, 3], seed: 85, low: -0.9, high: 0.9)
        let b = Inputs.normal([2, 5, 3], seed: 86)
        let h = Inputs.normal([2, 1, 3], seed: 87)
        expectFirstOrder([a, b, h]) { Tensor.linearScan($0[0], $0[1], axis: 1, initial: $0[2], reverse: reverse) }
        // An initial state broadcast over the batch.
        let h1 = Inputs.normal([1, 3], seed: 88)
        expectFirstOrder([a, b, h1]) { Tensor.linearScan($0[0], $0[1], axis: 1, initial: $0[2], reverse: reverse) }
    }

    @Test(arguments: [false, true])
    func linearScanWithBroadcastCoefficients(reverse: Bool) {
        // One decay per time step shared by batch and channels, and one per channel shared by all steps.
        let b = Inputs.normal([2, 4, 3], seed: 89)
        let h = Inputs.normal([2, 1, 3], seed: 90)
        let perStep = Inputs.uniform([4, 1], seed: 91, low: 0.3, high: 0.95)
        expectFirstOrder([perStep, b, h]) { Tensor.linearScan($0[0], $0[1], axis: 1, initial: $0[2], reverse: reverse) }
        let perChannel = Inputs.uniform([3], seed: 92, low: 0.3, high: 0.95)
        expectFirstOrder([perChannel, b]) { Tensor.linearScan($0[0], $0[1], axis: -2, reverse: reverse) }
        // A scalar coefficient and a b that is broadcast too: the output shape comes from a.
        let bRow = Inputs.normal([1, 4, 1], seed: 93)
        let a = Inputs.uniform([2, 4, 3], seed: 94, low: 0.3, high: 0.95)
        expectFirstOrder([a, bRow]) { Tensor.linearScan($0[0], $0[1], axis: 1, reverse: reverse) }
        expectFirstOrder([Inputs.uniform([], seed: 95, low: 0.5, high: 0.9), b]) {
            Tensor.linearScan($0[0], $0[1], axis: 1, reverse: reverse)
        }
    }

    @Test(arguments: [false, true])
    func linearScanAlongOtherAxesAndViews(reverse: Bool) {
        let a = Inputs.uniform([4, 3], seed: 96, low: 0.3, high: 0.95)
        let b = Inputs.normal([4, 3], seed: 97)
        expectFirstOrder([a, b]) { Tensor.linearScan($0[0], $0[1], axis: 0, reverse: reverse) }
        expectFirstOrder([a, b]) { Tensor.linearScan($0[0].transposed(), $0[1].transposed(), axis: -1, reverse: reverse) }
        // Length-1 and length-2 sequences exercise the first/last-step edge of the shifted adjoint.
        let a1 = Inputs.uniform([2, 1, 2], seed: 98, low: 0.3, high: 0.95)
        let b1 = Inputs.normal([2, 1, 2], seed: 99), h1 = Inputs.normal([2, 1, 2], seed: 100)
        expectFirstOrder([a1, b1, h1]) { Tensor.linearScan($0[0], $0[1], axis: 1, initial: $0[2], reverse: reverse) }
        let a2 = Inputs.uniform([2, 2], seed: 101, low: 0.3, high: 0.95)
        let b2 = Inputs.normal([2, 2], seed: 102), h2 = Inputs.normal([2, 1], seed: 103)
        expectFirstOrder([a2, b2, h2]) { Tensor.linearScan($0[0], $0[1], axis: 1, initial: $0[2], reverse: reverse) }
    }
}

@Suite struct GradientConvolutionTests {
    @Test(arguments: [1, 2, 3, 6])
    func depthwiseCausalConvolution(kernel: Int) {
        // Kernel 6 is longer than the sequence (time 4): the earliest taps only ever see padding.
        let x = Inputs.normal([2, 4, 3], seed: 111)
        let w = Inputs.normal([3, kernel], seed: 112)
        let bias = Inputs.normal([3], seed: 113)
        expectFirstOrder([x, w]) { $0[0].depthwiseCausalConvolution(weight: $0[1]) }
        expectFirstOrder([x, w, bias]) { $0[0].depthwiseCausalConvolution(weight: $0[1], bias: $0[2]) }
        expectFirstOrder([x, w, bias]) { $0[0].depthwiseCausalConvolution(weight: $0[1], bias: $0[2], past: 2) }
    }

    @Test func depthwiseCausalConvolutionOfViews() {
        let x = Inputs.normal([3, 4, 2], seed: 114) // read as [batch 2, time 4, channels 3] through a permute
        let w = Inputs.normal([2, 3], seed: 115)
        expectFirstOrder([x, w]) { $0[0].permute([2, 1, 0]).depthwiseCausalConvolution(weight: $0[1].transposed()) }
    }
}

@Suite struct GradientMatmulTests {
    struct Case: Sendable, CustomTestStringConvertible {
        let name: String
        let lhs: [Int]
        let rhs: [Int]
        let f: @Sendable (Tensor, Tensor) -> Tensor
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "2-D", lhs: [3, 4], rhs: [4, 5]) { $0.matmul($1) },
        Case(name: "batched", lhs: [2, 3, 4], rhs: [2, 4, 2]) { $0.matmul($1) },
        Case(name: "broadcast batch", lhs: [2, 1, 3, 4], rhs: [3, 4, 2]) { $0.matmul($1) },
        Case(name: "broadcast batch, size-1 on the right", lhs: [3, 2, 4], rhs: [1, 4, 2]) { $0.matmul($1) },
        Case(name: "batched left x 2-D", lhs: [2, 3, 4], rhs: [4, 5]) { $0.matmul($1) },
        Case(name: "rank-4 left x 2-D", lhs: [2, 2, 3, 4], rhs: [4, 2]) { $0.matmul($1) },
        Case(name: "2-D x batched right", lhs: [3, 4], rhs: [2, 4, 2]) { $0.matmul($1) },
        Case(name: "transposed left", lhs: [4, 3], rhs: [4, 5]) { $0.transposed().matmul($1) },
        Case(name: "transposed right", lhs: [3, 4], rhs: [5, 4]) { $0.matmul($1.transposed()) },
        Case(name: "both transposed", lhs: [4, 3], rhs: [5, 4]) { $0.transposed().matmul($1.transposed()) },
        Case(name: "batched both transposed", lhs: [2, 4, 3], rhs: [2, 5, 4]) { $0.transposed().matmul($1.transposed()) },
        Case(name: "batched left transposed x 2-D", lhs: [2, 4, 3], rhs: [4, 2]) { $0.transposed().matmul($1) },
        Case(name: "batched left x transposed 2-D", lhs: [2, 3, 4], rhs: [5, 4]) { $0.matmul($1.transposed()) },
        Case(name: "permuted batch", lhs: [3, 2, 4], rhs: [2, 4, 2]) { $0.permute([1, 0, 2]).matmul($1) },
        Case(name: "sliced operands", lhs: [3, 6], rhs: [3, 5]) {
            $0.slice(axis: 1, start: 1, end: 4).matmul($1.slice(axis: 1, start: 0, end: 5, step: 2))
        },
        Case(name: "expanded operand", lhs: [1, 3, 4], rhs: [2, 4, 2]) { $0.expand(to: [2, 3, 4]).matmul($1) },
        Case(name: "outer product (k = 1)", lhs: [3, 1], rhs: [1, 4]) { $0.matmul($1) },
        Case(name: "row times matrix (m = 1)", lhs: [1, 4], rhs: [4, 3]) { $0.matmul($1) },
        Case(name: "matrix times column (n = 1)", lhs: [2, 3, 4], rhs: [4, 1]) { $0.matmul($1) },
        Case(name: "same operand twice", lhs: [3, 3], rhs: [3, 3]) { x, _ in x.matmul(x.transposed()) },
    ]

    @Test(arguments: cases)
    func firstOrder(_ c: Case) {
        expectFirstOrder([Inputs.normal(c.lhs, seed: 121), Inputs.normal(c.rhs, seed: 122)]) { c.f($0[0], $0[1]) }
    }
}
