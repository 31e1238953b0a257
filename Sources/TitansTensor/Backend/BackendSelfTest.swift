/// One line of a backend's self-test: a kernel or op computed by the backend under test and by the CPU's, and the
/// worst difference between them.
///
/// ```swift
/// let check = BackendCheck(name: "softmax", dtype: .float32, worstError: 3e-7, tolerance: 2e-5)
/// print(check.passed)   // true
/// ```
public struct BackendCheck: Sendable, CustomStringConvertible {
    public let name: String
    public let dtype: DType
    /// The largest |candidate − cpu| / max(1, |cpu|) over every output element (infinite where only one is NaN).
    public let worstError: Double
    public let tolerance: Double
    public var passed: Bool { worstError <= tolerance }

    public var description: String {
        let error = worstError.isFinite ? String(format: "%.2e", worstError) : "\(worstError)"
        return "\(passed ? "pass" : "FAIL")  \(name) (\(dtype)): worst \(error), tolerance \(String(format: "%.0e", tolerance))"
    }
}

/// The checks that hold a backend to the CPU's (`titans selftest --device cuda`): every kernel of the seam called
/// directly on both, float32 and float64, on broadcast, strided and offset operands. The tolerances are float32's
/// 2·10⁻⁵ and float64's 10⁻¹¹ relative to max(1, |value|): summation order and the library's transcendental functions
/// differ, nothing else should.
///
/// ```swift
/// let checks = BackendSelfTest.kernels(candidate)
/// print(checks.filter { !$0.passed })
/// ```
public enum BackendSelfTest {
    public static func tolerance(_ dtype: DType) -> Double { dtype == .float32 ? 2e-5 : 1e-11 }

    /// The worst relative difference of `candidate` from `reference` (equal NaNs agree).
    public static func worstError(_ candidate: [Double], _ reference: [Double]) -> Double {
        guard candidate.count == reference.count else { return .infinity }
        var worst = 0.0
        for (c, r) in zip(candidate, reference) {
            if c.isNaN || r.isNaN {
                if c.isNaN != r.isNaN { return .infinity }
                continue
            }
            if c == r { continue }  // equal infinities
            worst = Swift.max(worst, Swift.abs(c - r) / Swift.max(1, Swift.abs(r)))
        }
        return worst
    }

    /// Every kernel of `candidate` against the CPU backend's.
    static func kernels(_ candidate: any ComputeBackend) -> [BackendCheck] {
        DType.allCases.flatMap { dtype in kernelCases(dtype).map { kernelCase in
            let expected = kernelCase.run(CPUBackend.shared), actual = kernelCase.run(candidate)
            return BackendCheck(name: kernelCase.name, dtype: dtype, worstError: worstError(actual, expected),
                                tolerance: tolerance(dtype))
        } }
    }

    /// One kernel call on fixed inputs: `run` calls it on a backend and returns the output's elements.
    struct KernelCase {
        let name: String
        let run: (any ComputeBackend) -> [Double]
    }

    /// The cases, inputs drawn from one seed so both backends see the same.
    static func kernelCases(_ dtype: DType) -> [KernelCase] {
        var rng = RandomGenerator(seed: 11)
        func normal(_ shape: [Int]) -> Tensor { Tensor.randomNormal(shape, dtype: dtype, generator: &rng) }
        func positive(_ shape: [Int]) -> Tensor { normal(shape).abs() + 0.1 }
        /// A case whose output is a fresh tensor of `shape`, filled by `call`.
        func make(_ name: String, _ shape: [Int], _ call: @escaping (any ComputeBackend, Tensor) -> Void) -> KernelCase {
            KernelCase(name: name) { backend in
                let out = Tensor.zeros(shape, dtype: dtype)
                call(backend, out)
                return out.toArray()
            }
        }
        var cases: [KernelCase] = []

        let x = normal([3, 5, 7]), strided = normal([7, 5, 3]).permute([2, 1, 0]), shifted = normal([4, 3, 5, 7]).select(axis: 0, index: 2)
        let unaries: [(UnaryFunction, Tensor)] = [
            (.negate, x), (.exp, x), (.log, positive([3, 5, 7])), (.sqrt, positive([3, 5, 7])), (.rsqrt, positive([3, 5, 7])),
            (.abs, x), (.tanh, x), (.sigmoid, x * 4), (.silu, x * 4), (.gelu, x), (.relu, x), (.softplus, x * 8), (.erf, x),
            (.sign, x), (.affine(scale: -1.5, shift: 0.25), x), (.power(2), x), (.power(3), x), (.power(-2), positive([3, 5, 7])),
            (.power(0.5), positive([3, 5, 7])), (.clamp(lower: -0.5, upper: 0.7), x),
        ]
        for (f, input) in unaries {
            cases.append(make("unary \(f.name)", input.shape) { $0.unary(f, input, into: $1) })
        }
        cases.append(make("unary sigmoid, strided input", strided.shape) { $0.unary(.sigmoid, strided, into: $1) })
        cases.append(make("unary exp, offset input", shifted.shape) { $0.unary(.exp, shifted, into: $1) })

        let (a, b, base) = (normal([4, 1, 6]), normal([5, 1]), positive([4, 1, 6]))
        for f in [BinaryFunction.add, .subtract, .multiply, .divide, .maximum, .minimum, .equal, .notEqual, .less,
                  .lessOrEqual, .greater, .greaterOrEqual] {
            let (left, right) = f.isComparison ? (a.greater(than: 0), b.greater(than: 0)) : (a, b)  // ties for ==
            cases.append(make("binary \(f.rawValue), broadcast", [4, 5, 6]) { $0.binary(f, left, right, into: $1) })
        }
        cases.append(make("binary pow, integer and real exponents", [4, 5, 6]) { backend, out in
            backend.binary(.pow, base, (b * 3).unary(.clamp(lower: -3, upper: 3)), into: out)
        })
        cases.append(make("binary multiply, strided and offset", strided.shape) { $0.binary(.multiply, strided, shifted, into: $1) })
        let (mask, otherwise) = (a.greater(than: 0), normal([6]))
        cases.append(make("select, broadcast", [4, 5, 6]) { $0.select(mask, b, otherwise, into: $1) })
        let (factor, scale, addend) = (normal([4, 5, 6]), normal([4, 1, 1]), normal([5, 6]))
        cases.append(make("multiplyAdd, broadcast", [4, 5, 6]) { $0.multiplyAdd(factor, scale, addend, into: $1) })
        let source = normal([4, 3])
        cases.append(KernelCase(name: "copy into a strided view") { backend in
            let target = Tensor.zeros([6, 4], dtype: dtype)
            backend.copy(source, into: target.transposed().slice(axis: 1, start: 1, end: 4))
            return target.toArray()
        })

        let products: [(String, Tensor, Tensor)] = [
            ("matmul 3×4 · 4×5", normal([3, 4]), normal([4, 5])),
            ("matmul batched 2×3 of 4×5 · 5×6", normal([2, 3, 4, 5]), normal([5, 6])),
            ("matmul broadcast batches", normal([2, 1, 4, 5]), normal([3, 5, 2])),
            ("matmul transposed operands", normal([2, 5, 4]).transposed(), normal([2, 6, 5]).transposed()),
            ("matmul one row", normal([4, 1, 64]), normal([4, 64, 64])),
            ("matmul strided rows", normal([3, 8, 5]).slice(axis: 1, start: 0, end: 8, step: 2), normal([5, 3])),
        ]
        for (name, left, right) in products {
            let batch = Shape.broadcast(Array(left.shape.dropLast(2)), Array(right.shape.dropLast(2))) ?? []
            let shape = batch + [left.shape[left.rank - 2], right.shape[right.rank - 1]]
            cases.append(make(name, shape) { $0.matmul(left, right, into: $1) })
        }

        for (outer, length, inner) in [(3, 17, 5), (1, 1000, 1), (6, 1, 4)] {
            let lines = normal([outer, length, inner])
            let sizes = "[\(outer), \(length), \(inner)]"
            for reduction in [Reduction.sum, .max] {
                cases.append(make("reduce \(reduction.rawValue) \(sizes)", [outer, 1, inner]) {
                    $0.reduce(reduction, lines, outer: outer, length: length, inner: inner, into: $1)
                })
            }
            cases.append(KernelCase(name: "argmax \(sizes)") { backend in
                backend.argmax(lines, outer: outer, length: length, inner: inner).map(Double.init)
            })
            for reverse in [false, true] {
                let direction = reverse ? ", reversed" : ""
                cases.append(make("cumulativeSum \(sizes)\(direction)", lines.shape) {
                    $0.cumulativeSum(lines, outer: outer, length: length, inner: inner, reverse: reverse, into: $1)
                })
                let (decay, initial) = (positive(lines.shape).unary(.clamp(lower: 0, upper: 1)), normal([outer, 1, inner]))
                cases.append(make("linearScan \(sizes)\(direction)", lines.shape) {
                    $0.linearScan(decay, lines, initial: initial, outer: outer, length: length, inner: inner, reverse: reverse, into: $1)
                })
            }
            for log in [false, true] {
                cases.append(make("\(log ? "logSoftmax" : "softmax") \(sizes)", lines.shape) {
                    $0.softmax(lines * 5, outer: outer, length: length, inner: inner, log: log, into: $1)
                })
            }
        }
        let normalizing = normal([6, 7]), rowWeight = normal([7])
        for (weight, divisor) in [(Optional(rowWeight), 7.0), (nil, 1.0)] {
            cases.append(make("normalizeRows\(weight == nil ? "" : ", weighted"), divisor \(divisor)", [6, 7]) {
                $0.normalizeRows(normalizing, weight: weight, divisor: divisor, epsilon: 1e-6, rows: 6, width: 7, into: $1)
            })
        }
        let rotating = normal([2, 3, 6]), cosines = normal([3, 3]), sines = normal([3, 3])
        cases.append(make("rotateHalves", [2, 3, 6]) {
            $0.rotateHalves(rotating, cos: cosines, sin: sines, rows: 6, positions: 3, width: 6, into: $1)
        })
        let rows = normal([2, 9, 4]), picks = [8, 0, 3, 3, 5]
        cases.append(make("indexSelect", [2, 5, 4]) { $0.indexSelect(rows, indices: picks, outer: 2, length: 9, inner: 4, into: $1) })
        let additions = normal([2, 5, 4])
        cases.append(make("indexAdd, repeated indices", [2, 9, 4]) {
            $0.indexAdd(additions, indices: picks, outer: 2, length: 9, inner: 4, into: $1)
        })
        let along = (0..<8).map { ($0 * 5) % 9 }
        cases.append(make("take", [2, 4]) { $0.take(rows, indices: along, outer: 2, length: 9, inner: 4, into: $1) })
        let values = normal([2, 4])
        cases.append(make("put", [2, 9, 4]) { $0.put(values, indices: along, outer: 2, length: 9, inner: 4, into: $1) })
        return cases
    }
}
