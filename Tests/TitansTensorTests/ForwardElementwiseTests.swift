import Foundation
import Testing
@testable import TitansTensor

/// A pair of operand shapes for broadcasting tests.
struct FwdShapePair: Sendable, CustomTestStringConvertible {
    let a: [Int], b: [Int]
    var testDescription: String { "\(a) ⊕ \(b)" }
    static let all: [FwdShapePair] = [
        .init(a: [2, 3], b: [2, 3]),
        .init(a: [2, 3, 4], b: [4]),
        .init(a: [4], b: [2, 3, 4]),
        .init(a: [2, 1, 4], b: [3, 1]),
        .init(a: [3, 1], b: [1, 4]),
        .init(a: [], b: [2, 3]),
        .init(a: [2, 3], b: []),
        .init(a: [], b: []),
        .init(a: [5, 1, 1], b: [1, 4, 1]),
        .init(a: [1], b: [3, 1]),
        .init(a: [2, 1, 3, 1], b: [4, 1, 5]),
        .init(a: [0, 3], b: [3]),
    ]
}

/// A named binary op with its reference.
struct FwdBinaryCase: Sendable, CustomTestStringConvertible {
    let name: String
    let op: @Sendable (Tensor, Tensor) -> Tensor
    let reference: @Sendable (Double, Double) -> Double
    /// Ranges of the two operands.
    var a: ClosedRange<Double> = -2...2
    var b: ClosedRange<Double> = -2...2
    var testDescription: String { name }

    static let all: [FwdBinaryCase] = [
        .init(name: "+", op: { $0 + $1 }, reference: { $0 + $1 }),
        .init(name: "-", op: { $0 - $1 }, reference: { $0 - $1 }),
        .init(name: "*", op: { $0 * $1 }, reference: { $0 * $1 }),
        .init(name: "/", op: { $0 / $1 }, reference: { $0 / $1 }, b: 0.5...3),
        .init(name: "pow", op: { $0.pow($1) }, reference: { Foundation.pow($0, $1) }, a: 0.1...3, b: -2...2),
        .init(name: "maximum", op: { $0.maximum($1) }, reference: { Swift.max($0, $1) }),
        .init(name: "minimum", op: { $0.minimum($1) }, reference: { Swift.min($0, $1) }),
    ]
}

@Suite("Forward: elementwise ops")
struct ForwardElementwiseTests {
    @Test(arguments: DType.allCases, FwdBinaryCase.all)
    func binaryBroadcasting(dtype: DType, c: FwdBinaryCase) {
        for (i, pair) in FwdShapePair.all.enumerated() {
            let (a, av) = FwdRef.random(pair.a, dtype, seed: UInt64(10 + i), in: c.a)
            let (b, bv) = FwdRef.random(pair.b, dtype, seed: UInt64(100 + i), in: c.b)
            let expected = FwdRef.broadcastMap([(av, pair.a), (bv, pair.b)]) { c.reference($0[0], $0[1]) }
            let scale = c.name == "pow" ? 4.0 : 1.0
            FwdRef.expectClose(c.op(a, b), expected.values, shape: expected.shape, dtype: dtype, scale: scale, "\(c.name) \(pair.testDescription)")
        }
    }

    @Test(arguments: DType.allCases)
    func tensorDoubleArithmetic(dtype: DType) {
        let (x, xv) = FwdRef.random([3, 4], dtype, seed: 1, in: -3...3)
        let cases: [(String, Tensor, (Double) -> Double)] = [
            ("x + 2.5", x + 2.5, { $0 + 2.5 }),
            ("2.5 + x", 2.5 + x, { 2.5 + $0 }),
            ("x - 1.5", x - 1.5, { $0 - 1.5 }),
            ("1.5 - x", 1.5 - x, { 1.5 - $0 }),
            ("x * 3", x * 3, { $0 * 3 }),
            ("-0.5 * x", -0.5 * x, { -0.5 * $0 }),
            ("x / 4", x / 4, { $0 / 4 }),
            ("x / 3", x / 3, { $0 / 3 }),
            ("-x", -x, { -$0 }),
        ]
        for (name, t, f) in cases {
            FwdRef.expectClose(t, xv.map(f), shape: [3, 4], dtype: dtype, scale: 2, name)
        }
    }

    /// `Double / Tensor` must work for negative elements too (it was once computed as `x^-1` through a
    /// `pow` that returns NaN for negative bases).
    @Test(arguments: DType.allCases)
    func doubleDividedByTensor(dtype: DType) {
        let values: [Double] = [-4, -0.5, 0.25, 2, -3, 8]
        let x = Tensor(shape: [2, 3], values, dtype: dtype)
        FwdRef.expectClose(2 / x, values.map { 2 / $0 }, shape: [2, 3], dtype: dtype, "2 / x")
        FwdRef.expectClose(-3 / x, values.map { -3 / $0 }, shape: [2, 3], dtype: dtype, "-3 / x")
        let z = Tensor(shape: [2], [0, -0.0], dtype: dtype)
        FwdRef.expectClose(1 / z, [.infinity, -.infinity], shape: [2], dtype: dtype, "1 / ±0")
    }

    @Test(arguments: DType.allCases)
    func scalarTensorOperands(dtype: DType) {
        let s = Tensor.scalar(2, dtype: dtype)
        let (x, xv) = FwdRef.random([2, 3], dtype, seed: 5)
        FwdRef.expectClose(s * x, xv.map { 2 * $0 }, shape: [2, 3], dtype: dtype, "scalar * x")
        FwdRef.expectClose(x - s, xv.map { $0 - 2 }, shape: [2, 3], dtype: dtype, "x - scalar")
        FwdRef.expectClose(s / x, xv.map { 2 / $0 }, shape: [2, 3], dtype: dtype, "scalar / x")
        let r = s + Tensor.scalar(-5, dtype: dtype)
        #expect(r.shape == [] && r.item() == -3)
    }

    // MARK: Unary

    struct UnaryCase: Sendable, CustomTestStringConvertible {
        let name: String
        let op: @Sendable (Tensor) -> Tensor
        let reference: @Sendable (Double) -> Double
        var range: ClosedRange<Double> = -3...3
        /// Multiplier of the default tolerance.
        var scale: Double = 2
        var testDescription: String { name }
    }

    static func sigmoid(_ x: Double) -> Double { 1 / (1 + Foundation.exp(-x)) }

    static let unaryCases: [UnaryCase] = [
        .init(name: "negate", op: { -$0 }, reference: { -$0 }),
        .init(name: "exp", op: { $0.exp() }, reference: { Foundation.exp($0) }, range: -5...5),
        .init(name: "log", op: { $0.log() }, reference: { Foundation.log($0) }, range: 0.01...10),
        .init(name: "sqrt", op: { $0.sqrt() }, reference: { $0.squareRoot() }, range: 0...10),
        .init(name: "rsqrt", op: { $0.rsqrt() }, reference: { 1 / $0.squareRoot() }, range: 0.01...10),
        .init(name: "pow(0.5)", op: { $0.pow(0.5) }, reference: { Foundation.pow($0, 0.5) }, range: 0...5),
        .init(name: "pow(2)", op: { $0.pow(2) }, reference: { $0 * $0 }),
        .init(name: "squared", op: { $0.squared() }, reference: { $0 * $0 }),
        .init(name: "pow(3) negative base", op: { $0.pow(3) }, reference: { $0 * $0 * $0 }, scale: 4),
        .init(name: "pow(-1)", op: { $0.pow(-1) }, reference: { 1 / $0 }, range: -3...(-0.1)),
        .init(name: "pow(-2)", op: { $0.pow(-2) }, reference: { 1 / ($0 * $0) }, range: -3...(-0.1), scale: 4),
        .init(name: "pow(1.5)", op: { $0.pow(1.5) }, reference: { Foundation.pow($0, 1.5) }, range: 0...4, scale: 4),
        .init(name: "abs", op: { $0.abs() }, reference: { Swift.abs($0) }),
        .init(name: "tanh", op: { $0.tanh() }, reference: { Foundation.tanh($0) }, range: -5...5),
        .init(name: "sigmoid", op: { $0.sigmoid() }, reference: { sigmoid($0) }, range: -8...8),
        .init(name: "silu", op: { $0.silu() }, reference: { $0 * sigmoid($0) }, range: -8...8, scale: 4),
        .init(name: "gelu", op: { $0.gelu() }, reference: { 0.5 * $0 * (1 + Foundation.erf($0 / 2.0.squareRoot())) }, scale: 4),
        .init(name: "relu", op: { $0.relu() }, reference: { Swift.max($0, 0) }),
        .init(name: "softplus", op: { $0.softplus() }, reference: { Foundation.log(1 + Foundation.exp($0)) }, range: -10...10, scale: 4),
        .init(name: "erf", op: { $0.erf() }, reference: { Foundation.erf($0) }),
        .init(name: "sign", op: { $0.sign() }, reference: { $0 > 0 ? 1 : ($0 < 0 ? -1 : 0) }),
        .init(name: "clamp(-0.5, 1)", op: { $0.clamp(min: -0.5, max: 1) }, reference: { Swift.min(Swift.max($0, -0.5), 1) }),
        .init(name: "clamp(min: 0.3)", op: { $0.clamp(min: 0.3) }, reference: { Swift.max($0, 0.3) }),
        .init(name: "clamp(max: -1)", op: { $0.clamp(max: -1) }, reference: { Swift.min($0, -1) }),
        .init(name: "maximum(0.25)", op: { $0.maximum(0.25) }, reference: { Swift.max($0, 0.25) }),
        .init(name: "minimum(-0.25)", op: { $0.minimum(-0.25) }, reference: { Swift.min($0, -0.25) }),
    ]

    @Test(arguments: DType.allCases, unaryCases)
    func unary(dtype: DType, c: UnaryCase) {
        let (x, xv) = FwdRef.random([3, 7], dtype, seed: 17, in: c.range)
        FwdRef.expectClose(c.op(x), xv.map(c.reference), shape: [3, 7], dtype: dtype, scale: c.scale, c.name)
        // Rank 0 and empty inputs keep their shapes.
        let s = Tensor.scalar(xv[0], dtype: dtype)
        FwdRef.expectClose(c.op(s), [c.reference(xv[0])], shape: [], dtype: dtype, scale: c.scale, "\(c.name) 0-d")
        #expect(c.op(Tensor.zeros([2, 0], dtype: dtype)).shape == [2, 0])
    }

    @Test(arguments: DType.allCases)
    func unaryKnownValues(dtype: DType) {
        let x = Tensor(shape: [3], [-1, 0, 1], dtype: dtype)
        FwdRef.expectClose(x.gelu(), [-0.15865525393145707, 0, 0.8413447460685429], shape: [3], scale: 2, "gelu")
        FwdRef.expectClose(x.sigmoid(), [0.2689414213699951, 0.5, 0.7310585786300049], shape: [3], scale: 2, "sigmoid")
        FwdRef.expectClose(x.silu(), [-0.2689414213699951, 0, 0.7310585786300049], shape: [3], scale: 2, "silu")
        FwdRef.expectClose(x.softplus(), [0.31326168751822286, 0.6931471805599453, 1.3132616875182228], shape: [3], scale: 2, "softplus")
        FwdRef.expectClose(x.erf(), [-0.8427007929497149, 0, 0.8427007929497149], shape: [3], scale: 2, "erf")
        FwdRef.expectClose(x.tanh(), [-0.7615941559557649, 0, 0.7615941559557649], shape: [3], scale: 2, "tanh")
        FwdRef.expectClose(x.exp(), [0.36787944117144233, 1, 2.718281828459045], shape: [3], scale: 2, "exp")
        FwdRef.expectClose(x.sign(), [-1, 0, 1], shape: [3], "sign")
        FwdRef.expectClose(x.relu(), [0, 0, 1], shape: [3], "relu")
        FwdRef.expectClose(Tensor(shape: [2], [2, 0.5], dtype: dtype).erf(), [0.9953222650189527, 0.5204998778130465], shape: [2], scale: 2, "erf 2")
        // x^0 is 1 everywhere, including 0 and negative bases, as in NumPy.
        FwdRef.expectClose(Tensor(shape: [3], [0, -2, 5], dtype: dtype).pow(0), [1, 1, 1], shape: [3], "pow(0)")
        FwdRef.expectClose(Tensor(shape: [3], [0, -2, 5], dtype: dtype).pow(Tensor.scalar(0, dtype: dtype)), [1, 1, 1], shape: [3], "pow(tensor 0)")
        // Tensor exponents: integer exponents of negative bases are real; fractional ones are NaN.
        let base = Tensor(shape: [4], [-2, -2, -8, 4], dtype: dtype)
        let exponent = Tensor(shape: [4], [3, 2, 0.5, -0.5], dtype: dtype)
        FwdRef.expectClose(base.pow(exponent), [-8, 4, .nan, 0.5], shape: [4], scale: 2, "pow(tensor)")
        FwdRef.expectClose(Tensor(shape: [1], [-0.0], dtype: dtype).sqrt(), [0], shape: [1], "sqrt(-0)")
        FwdRef.expectClose(Tensor(shape: [2], [0, -1], dtype: dtype).log(), [-.infinity, .nan], shape: [2], "log edge")
    }

    @Test(arguments: DType.allCases)
    func extremeInputsDoNotOverflow(dtype: DType) {
        let big: [Double] = dtype == .float64 ? [50, -50, 100, -100, 700, -700, 800, -800] : [50, -50, 80, -80, 88, -88, 200, -200]
        let x = Tensor(shape: [big.count], big, dtype: dtype)
        let sp = x.softplus().toArray()
        for (v, s) in zip(big, sp) {
            #expect(s.isFinite, "softplus(\(v)) = \(s)")
            let expected = Swift.max(v, 0) + Foundation.log1p(Foundation.exp(-Swift.abs(v)))
            let tiny = dtype == .float64 ? 1e-300 : 1e-37
            #expect(Swift.abs(s - expected) <= 4e-6 * Swift.abs(expected) + tiny, "softplus(\(v)) = \(s), expected \(expected)")
        }
        let sg = x.sigmoid().toArray()
        for (v, s) in zip(big, sg) {
            #expect(s >= 0 && s <= 1, "sigmoid(\(v)) = \(s)")
            #expect(Swift.abs(s - Self.sigmoid(v)) <= 1e-6 * Self.sigmoid(v) + 1e-37, "sigmoid(\(v)) = \(s)")
        }
        for (v, s) in zip(big, x.silu().toArray()) { #expect(s.isFinite && Swift.abs(s - v * Self.sigmoid(v)) <= 1e-5 * Swift.abs(v), "silu(\(v)) = \(s)") }
        for (v, s) in zip(big, x.gelu().toArray()) { #expect(s.isFinite && Swift.abs(s - Swift.max(v, 0)) <= 1e-5 * Swift.abs(v), "gelu(\(v)) = \(s)") }
        for (v, s) in zip(big, x.tanh().toArray()) { #expect(s == (v > 0 ? 1 : -1), "tanh(\(v)) = \(s)") }
    }

    // MARK: Comparisons and where

    @Test(arguments: DType.allCases)
    func comparisons(dtype: DType) {
        let av: [Double] = [1, 2, 3, 4, 5, 6]
        let bv: [Double] = [3, 2, 5]
        let a = Tensor(shape: [2, 3], av, dtype: dtype), b = Tensor(shape: [3], bv, dtype: dtype)
        let cases: [(String, Tensor, (Double, Double) -> Bool)] = [
            ("equal", a.equal(to: b), { $0 == $1 }),
            ("notEqual", a.notEqual(to: b), { $0 != $1 }),
            ("less", a.less(than: b), { $0 < $1 }),
            ("lessOrEqual", a.lessOrEqual(to: b), { $0 <= $1 }),
            ("greater", a.greater(than: b), { $0 > $1 }),
            ("greaterOrEqual", a.greaterOrEqual(to: b), { $0 >= $1 }),
        ]
        for (name, t, f) in cases {
            let expected = FwdRef.broadcastMap([(av, [2, 3]), (bv, [3])]) { f($0[0], $0[1]) ? 1 : 0 }
            FwdRef.expectClose(t, expected.values, shape: [2, 3], dtype: dtype, name)
            #expect(!t.requiresGrad)
        }
        let scalarCases: [(String, Tensor, (Double) -> Bool)] = [
            ("equal 3", a.equal(to: 3), { $0 == 3 }),
            ("less 3", a.less(than: 3), { $0 < 3 }),
            ("lessOrEqual 3", a.lessOrEqual(to: 3), { $0 <= 3 }),
            ("greater 3", a.greater(than: 3), { $0 > 3 }),
            ("greaterOrEqual 3", a.greaterOrEqual(to: 3), { $0 >= 3 }),
        ]
        for (name, t, f) in scalarCases {
            FwdRef.expectClose(t, av.map { f($0) ? 1 : 0 }, shape: [2, 3], dtype: dtype, name)
        }
        // Comparisons never record history, even on inputs that require gradients.
        let leaf = Tensor(shape: [3], [1, 2, 3], dtype: dtype).requiringGrad()
        #expect(!leaf.greater(than: 1.5).requiresGrad)
        // NaN compares unequal to everything.
        let n = Tensor(shape: [2], [.nan, 1], dtype: dtype)
        FwdRef.expectClose(n.equal(to: n), [0, 1], shape: [2], "NaN == NaN")
        FwdRef.expectClose(n.notEqual(to: n), [1, 0], shape: [2], "NaN != NaN")
    }

    @Test(arguments: DType.allCases)
    func whereBroadcasting(dtype: DType) {
        let maskValues: [Double] = [1, 0, 2, 0]   // any non-zero selects `a`
        let mask = Tensor(shape: [4], maskValues, dtype: dtype)
        let (a, av) = FwdRef.random([3, 4], dtype, seed: 3)
        let (b, bv) = FwdRef.random([3, 1], dtype, seed: 4)
        let expected = FwdRef.broadcastMap([(maskValues, [4]), (av, [3, 4]), (bv, [3, 1])]) { $0[0] != 0 ? $0[1] : $0[2] }
        FwdRef.expectClose(Tensor.where(mask, a, b), expected.values, shape: [3, 4], dtype: dtype, "where")
        // Scalar branch and a mask that broadcasts to a larger shape than both branches.
        let zero = Tensor.scalar(-7, dtype: dtype)
        let m2v: [Double] = [0, 1, 1, 0, 0, 1]
        let m2 = Tensor(shape: [2, 1, 3], m2v, dtype: dtype)
        let (c, cv) = FwdRef.random([3], dtype, seed: 6)
        let e2 = FwdRef.broadcastMap([(m2v, [2, 1, 3]), (cv, [3]), ([-7], [])]) { $0[0] != 0 ? $0[1] : $0[2] }
        FwdRef.expectClose(Tensor.where(m2, c, zero), e2.values, shape: [2, 1, 3], dtype: dtype, "where scalar")
        let m3v: [Double] = [1, 0]
        let e3 = FwdRef.broadcastMap([(m3v, [2, 1]), (cv, [3]), ([-7], [])]) { $0[0] != 0 ? $0[1] : $0[2] }
        FwdRef.expectClose(Tensor.where(Tensor(shape: [2, 1], m3v, dtype: dtype), c, zero), e3.values, shape: [2, 3], dtype: dtype, "where mask-led shape")
    }

    // MARK: Non-contiguous inputs

    /// A view of a base tensor, with the base multi-index each view position reads.
    struct ViewCase {
        let name: String
        let baseShape: [Int]
        let shape: [Int]
        let make: (Tensor) -> Tensor
        let source: ([Int]) -> [Int]
    }

    static let viewCases: [ViewCase] = [
        .init(name: "transposed", baseShape: [5, 3], shape: [3, 5], make: { $0.transposed() }, source: { [$0[1], $0[0]] }),
        .init(name: "permute [2, 0, 1]", baseShape: [2, 3, 4], shape: [4, 2, 3], make: { $0.permute([2, 0, 1]) },
              source: { [$0[1], $0[2], $0[0]] }),
        .init(name: "slice step 2", baseShape: [4, 7], shape: [4, 3], make: { $0.slice(axis: 1, start: 1, end: 7, step: 2) },
              source: { [$0[0], 1 + 2 * $0[1]] }),
        .init(name: "slice rows with offset", baseShape: [6, 4], shape: [3, 4], make: { $0.slice(axis: 0, start: 2, end: 5) },
              source: { [$0[0] + 2, $0[1]] }),
        .init(name: "select column", baseShape: [5, 4], shape: [5], make: { $0.select(axis: 1, index: 2) }, source: { [$0[0], 2] }),
        .init(name: "expand [3, 1] -> [2, 3, 4]", baseShape: [3, 1], shape: [2, 3, 4], make: { $0.expand(to: [2, 3, 4]) },
              source: { [$0[1], 0] }),
        .init(name: "expand [4] -> [3, 4]", baseShape: [4], shape: [3, 4], make: { $0.expand(to: [3, 4]) }, source: { [$0[1]] }),
        .init(name: "transposed slice", baseShape: [6, 5], shape: [3, 3], make: { $0.transposed().slice(axis: 0, start: 1, end: 4).slice(axis: 1, start: 0, end: 6, step: 2) },
              source: { [2 * $0[1], 1 + $0[0]] }),
        .init(name: "permuted 4-d", baseShape: [2, 3, 2, 4], shape: [4, 2, 3, 2], make: { $0.permute([3, 0, 1, 2]) },
              source: { [$0[1], $0[2], $0[3], $0[0]] }),
    ]

    @Test(arguments: DType.allCases)
    func nonContiguousInputs(dtype: DType) {
        for (i, v) in Self.viewCases.enumerated() {
            let (base, bv) = FwdRef.random(v.baseShape, dtype, seed: UInt64(300 + i))
            let view = v.make(base)
            #expect(view.shape == v.shape, "\(v.name)")
            let vv = (0..<FwdRef.count(v.shape)).map { bv[FwdRef.ravel(v.source(FwdRef.unravel($0, v.shape)), v.baseShape)] }
            FwdRef.expectClose(view, vv, shape: v.shape, dtype: dtype, "\(v.name) values")
            #expect(view.toArray() == vv, "\(v.name) toArray")
            let copy = view.contiguous()
            #expect(copy.isContiguous)
            let (w, wv) = FwdRef.random(v.shape, dtype, seed: UInt64(400 + i))
            let checks: [(String, (Tensor) -> Tensor, [Double])] = [
                ("v + w", { $0 + w }, zip(vv, wv).map { $0 + $1 }),
                ("w * v", { w * $0 }, zip(vv, wv).map { $0 * $1 }),
                ("v - v", { $0 - $0 }, vv.map { $0 - $0 }),
                ("exp", { $0.exp() }, vv.map { Foundation.exp($0) }),
                ("v * 2 + 1", { $0 * 2 + 1 }, vv.map { $0 * 2 + 1 }),
                ("maximum", { $0.maximum(w) }, zip(vv, wv).map { Swift.max($0, $1) }),
                ("where", { Tensor.where($0.greater(than: 0), $0, w) }, zip(vv, wv).map { $0 > 0 ? $0 : $1 }),
                ("sigmoid", { $0.sigmoid() }, vv.map { Self.sigmoid($0) }),
            ]
            for (name, f, expected) in checks {
                let onView = f(view), onCopy = f(copy)
                FwdRef.expectClose(onView, expected, shape: v.shape, dtype: dtype, scale: 2, "\(v.name): \(name)")
                #expect(onView.toArray() == onCopy.toArray(), "\(v.name): \(name) differs between view and contiguous copy")
            }
            // Two non-contiguous operands together.
            FwdRef.expectClose(view * view + view, vv.map { $0 * $0 + $0 }, shape: v.shape, dtype: dtype, scale: 2, "\(v.name): v*v+v")
        }
    }

    // MARK: Large tensors (multi-threaded kernels)

    @Test(arguments: DType.allCases)
    func largeTensors(dtype: DType) {
        let (rows, cols) = (400, 300)   // 120_000 elements, above the 32_768 threading threshold
        let (x, xv) = FwdRef.random([rows, cols], dtype, seed: 91)
        let (r, rv) = FwdRef.random([cols], dtype, seed: 92)
        let (c, cv) = FwdRef.random([rows, 1], dtype, seed: 93)
        let (y, yv) = FwdRef.random([rows, cols], dtype, seed: 94)
        FwdRef.expectClose(x + y, zip(xv, yv).map { $0 + $1 }, shape: [rows, cols], dtype: dtype, "large x + y")
        FwdRef.expectClose(x.exp(), xv.map { Foundation.exp($0) }, shape: [rows, cols], dtype: dtype, scale: 2, "large exp")
        FwdRef.expectClose(x * 0.5 - 1, xv.map { $0 * 0.5 - 1 }, shape: [rows, cols], dtype: dtype, "large affine")
        FwdRef.expectClose(x * r, (0..<(rows * cols)).map { xv[$0] * rv[$0 % cols] }, shape: [rows, cols], dtype: dtype, "broadcast along rows")
        FwdRef.expectClose(x - c, (0..<(rows * cols)).map { xv[$0] - cv[$0 / cols] }, shape: [rows, cols], dtype: dtype, "broadcast along columns")
        FwdRef.expectClose(r - c, (0..<(rows * cols)).map { rv[$0 % cols] - cv[$0 / cols] }, shape: [rows, cols], dtype: dtype, "outer broadcast")
        FwdRef.expectClose(Tensor.where(x.greater(than: 0), x, c), (0..<(rows * cols)).map { xv[$0] > 0 ? xv[$0] : cv[$0 / cols] },
                           shape: [rows, cols], dtype: dtype, "large where")
        // Transposed large operand.
        let xt = x.transposed()
        let xtv = FwdRef.transpose(xv, rows: rows, cols: cols), ytv = FwdRef.transpose(yv, rows: rows, cols: cols)
        FwdRef.expectClose(xt + y.transposed(), zip(xtv, ytv).map { $0 + $1 },
                           shape: [cols, rows], dtype: dtype, "large transposed + transposed")
        FwdRef.expectClose(xt * c.reshape([1, rows]), (0..<(rows * cols)).map { xtv[$0] * cv[$0 % rows] },
                           shape: [cols, rows], dtype: dtype, "large transposed * row")
        // One long run (single row path).
        let (f, fv) = FwdRef.random([150_001], dtype, seed: 95)
        FwdRef.expectClose(f.abs() + 1, fv.map { Swift.abs($0) + 1 }, shape: [150_001], dtype: dtype, "long 1-d")
        FwdRef.expectClose(f.contiguous(), fv, shape: [150_001], dtype: dtype, "long contiguous")
        // Large strided copy.
        FwdRef.expectClose(xt.contiguous(), xtv, shape: [cols, rows], dtype: dtype, "large contiguous()")
    }
}
