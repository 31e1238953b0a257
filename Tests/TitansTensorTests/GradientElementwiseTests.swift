import Testing
@testable import TitansTensor

/// A differentiable function of one tensor and the domain its check point is drawn from.
struct UnaryCase: Sendable, CustomTestStringConvertible {
    enum Domain: Sendable { case normal, positive, awayFromZero }
    let name: String
    let domain: Domain
    let f: @Sendable (Tensor) -> Tensor

    init(_ name: String, _ domain: Domain = .normal, _ f: @escaping @Sendable (Tensor) -> Tensor) {
        self.name = name
        self.domain = domain
        self.f = f
    }

    var testDescription: String { name }

    func input(_ shape: [Int], seed: UInt64) -> Tensor {
        switch domain {
        case .normal: return Inputs.normal(shape, seed: seed)
        case .positive: return Inputs.positive(shape, seed: seed)
        case .awayFromZero: return Inputs.awayFromZero(shape, seed: seed)
        }
    }

    static let all: [UnaryCase] = [
        UnaryCase("negate") { -$0 },
        UnaryCase("exp") { $0.exp() },
        UnaryCase("log", .positive) { $0.log() },
        UnaryCase("sqrt", .positive) { $0.sqrt() },
        UnaryCase("rsqrt", .positive) { $0.rsqrt() },
        UnaryCase("abs", .awayFromZero) { $0.abs() }, // |x| ≥ 0.2: away from the kink at 0
        UnaryCase("tanh") { $0.tanh() },
        UnaryCase("sigmoid") { $0.sigmoid() },
        UnaryCase("silu") { $0.silu() },
        UnaryCase("gelu") { $0.gelu() },
        UnaryCase("relu", .awayFromZero) { $0.relu() }, // |x| ≥ 0.2: away from the kink at 0
        UnaryCase("softplus") { $0.softplus() },
        UnaryCase("softplus large |x|") { ($0 * 30).softplus() }, // the stable branch for large |x|
        UnaryCase("erf") { $0.erf() },
        UnaryCase("pow 3") { $0.pow(3) },
        UnaryCase("pow 2") { $0.pow(2) },
        UnaryCase("squared") { $0.squared() },
        UnaryCase("pow 0.5", .positive) { $0.pow(0.5) },
        UnaryCase("pow -1.5", .positive) { $0.pow(-1.5) },
        UnaryCase("x + 2") { $0 + 2 },
        UnaryCase("2 + x") { 2 + $0 },
        UnaryCase("x - 2") { $0 - 2 },
        UnaryCase("2 - x") { 2 - $0 },
        UnaryCase("x * 3") { $0 * 3 },
        UnaryCase("3 * x") { 3 * $0 },
        UnaryCase("x / 4") { $0 / 4 },
        UnaryCase("4 / x", .awayFromZero) { 4 / $0 },
        UnaryCase("maximum(0.3)") { $0.maximum(0.3) }, // normal draws are not within 1e-6 of 0.3
        UnaryCase("minimum(-0.3)") { $0.minimum(-0.3) },
    ]
}

@Suite struct GradientUnaryTests {
    @Test(arguments: UnaryCase.all)
    func contiguous(_ c: UnaryCase) {
        expectFirstOrder([c.input([2, 3], seed: 11)]) { c.f($0[0]) }
    }

    @Test(arguments: UnaryCase.all)
    func onTransposedView(_ c: UnaryCase) {
        expectFirstOrder([c.input([3, 4], seed: 12)]) { c.f($0[0].transposed()) }
    }

    @Test(arguments: UnaryCase.all)
    func onSteppedSliceView(_ c: UnaryCase) {
        expectFirstOrder([c.input([2, 5], seed: 13)]) { c.f($0[0].slice(axis: 1, start: 1, end: 5, step: 2)) }
    }

    @Test(arguments: UnaryCase.all)
    func onExpandedView(_ c: UnaryCase) {
        // Each element is used three times, so its gradient is a sum of three contributions.
        expectFirstOrder([c.input([1, 4], seed: 14)]) { c.f($0[0].expand(to: [3, 4])) }
    }

    @Test(arguments: UnaryCase.all)
    func zeroDimensional(_ c: UnaryCase) {
        expectFirstOrder([c.input([], seed: 15)]) { c.f($0[0]) }
    }

    @Test func clampAwayFromBounds() {
        // Values inside and outside [-1, 1], all at least 0.1 from the bounds where clamp has kinks.
        let x = Tensor(shape: [2, 4], [-1.8, -0.7, -0.2, 0.4, 0.9 - 0.05, 1.3, 2.5, -1.15], dtype: .float64)
        expectFirstOrder([x]) { $0[0].clamp(min: -1, max: 1) }
        expectFirstOrder([x]) { $0[0].clamp(min: -0.5) }
        expectFirstOrder([x]) { $0[0].clamp(max: 0.5) }
    }
}

/// A differentiable function of two tensors and the domain of each operand.
struct BinaryCase: Sendable, CustomTestStringConvertible {
    let name: String
    let lhs: UnaryCase.Domain
    let rhs: UnaryCase.Domain
    let f: @Sendable (Tensor, Tensor) -> Tensor
    var testDescription: String { name }

    static let arithmetic: [BinaryCase] = [
        BinaryCase(name: "+", lhs: .normal, rhs: .normal) { $0 + $1 },
        BinaryCase(name: "-", lhs: .normal, rhs: .normal) { $0 - $1 },
        BinaryCase(name: "*", lhs: .normal, rhs: .normal) { $0 * $1 },
        BinaryCase(name: "/", lhs: .normal, rhs: .awayFromZero) { $0 / $1 }, // divisor |b| ≥ 0.2
        BinaryCase(name: "pow", lhs: .positive, rhs: .normal) { $0.pow($1) }, // positive base: a^b and log a are smooth
    ]

    func input(_ domain: UnaryCase.Domain, _ shape: [Int], seed: UInt64) -> Tensor {
        UnaryCase("", domain) { $0 }.input(shape, seed: seed)
    }
}

/// Operand shapes for broadcasting: same shape, trailing vector, size-1 axes on both sides, 0-d scalars.
struct ShapePair: Sendable, CustomTestStringConvertible {
    let lhs: [Int]
    let rhs: [Int]
    var testDescription: String { "\(lhs) op \(rhs)" }

    static let all: [ShapePair] = [
        ShapePair(lhs: [2, 3], rhs: [2, 3]),
        ShapePair(lhs: [2, 3, 4], rhs: [4]),
        ShapePair(lhs: [4], rhs: [2, 3, 4]),
        ShapePair(lhs: [2, 1, 4], rhs: [3, 1]),
        ShapePair(lhs: [3, 1], rhs: [2, 1, 4]),
        ShapePair(lhs: [], rhs: [2, 3]),
        ShapePair(lhs: [2, 3], rhs: []),
        ShapePair(lhs: [], rhs: []),
        ShapePair(lhs: [2, 1], rhs: [1, 3]),
    ]
}

@Suite struct GradientBinaryTests {
    @Test(arguments: BinaryCase.arithmetic, ShapePair.all)
    func broadcasting(_ c: BinaryCase, _ shapes: ShapePair) {
        let a = c.input(c.lhs, shapes.lhs, seed: 21), b = c.input(c.rhs, shapes.rhs, seed: 22)
        expectFirstOrder([a, b]) { c.f($0[0], $0[1]) }
    }

    @Test(arguments: BinaryCase.arithmetic)
    func sameTensorOnBothSides(_ c: BinaryCase) {
        // f(x, x): both partial derivatives land on the same leaf.
        let x = c.input(.positive, [2, 3], seed: 23)
        expectFirstOrder([x]) { c.f($0[0], $0[0]) }
    }

    @Test(arguments: BinaryCase.arithmetic)
    func onViews(_ c: BinaryCase) {
        // A transposed view against a stepped slice, and an expanded view against a permuted one.
        let a = c.input(c.lhs, [3, 2], seed: 24), b = c.input(c.rhs, [2, 6], seed: 25)
        expectFirstOrder([a, b]) { c.f($0[0].transposed(), $0[1].slice(axis: 1, start: 0, end: 6, step: 2)) }
        let p = c.input(c.lhs, [1, 3], seed: 26), q = c.input(c.rhs, [3, 2, 1], seed: 27)
        expectFirstOrder([p, q]) { c.f($0[0].expand(to: [2, 3]), $0[1].permute([2, 1, 0]).reshape([2, 3])) }
    }

    @Test func maximumAndMinimumWithoutTies() {
        // a takes the values k·1.0 and b the values k·1.0 + 0.5: every broadcast pair differs by ≥ 0.5.
        let a = Inputs.distinct([2, 3], seed: 28, spacing: 1)
        let b = Inputs.distinct([3], seed: 29, spacing: 1, offset: 0.5)
        expectFirstOrder([a, b]) { $0[0].maximum($0[1]) }
        expectFirstOrder([a, b]) { $0[0].minimum($0[1]) }
        expectFirstOrder([a, b]) { $0[1].unsqueeze(1).maximum($0[0].transposed()) }
        let s = Tensor.scalar(0.25, dtype: .float64)
        expectFirstOrder([a, s]) { $0[0].minimum($0[1]) }
    }

    @Test func whereSelectsGradients() {
        let mask = Tensor(shape: [2, 3], [1, 0, 1, 0, 0, 1], dtype: .float64)
        let a = Inputs.normal([2, 3], seed: 30), b = Inputs.normal([2, 3], seed: 31)
        expectFirstOrder([a, b]) { Tensor.where(mask, $0[0], $0[1]) }
        // Broadcast operands: a is summed over the rows it is broadcast to, b over the columns.
        let a1 = Inputs.normal([3], seed: 32), b1 = Inputs.normal([2, 1], seed: 33)
        expectFirstOrder([a1, b1]) { Tensor.where(mask, $0[0], $0[1]) }
        // Broadcast mask and a view operand.
        let rowMask = Tensor(shape: [3], [0, 1, 1], dtype: .float64)
        let c = Inputs.normal([3, 2], seed: 34)
        expectFirstOrder([c, b]) { Tensor.where(rowMask, $0[0].transposed(), $0[1].exp()) }
    }
}
