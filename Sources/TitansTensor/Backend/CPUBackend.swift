import CTitansKernels

/// The CPU's kernels: vectorised loops generic over their element function (``ElementwiseKernels``,
/// ``ReductionKernels``), matrix products through ``BLAS``, both cores where the work is large (``Parallel``). The
/// reference backend.
struct CPUBackend: ComputeBackend {
    static let shared = CPUBackend()

    func unary(_ f: UnaryFunction, _ x: Tensor, into out: Tensor) {
        switch out.dtype {
        case .float32: Self.unary(f, x, into: out, Float.self)
        case .float64: Self.unary(f, x, into: out, Double.self)
        }
    }

    func binary(_ f: BinaryFunction, _ a: Tensor, _ b: Tensor, into out: Tensor) {
        switch out.dtype {
        case .float32: Self.binary(f, a, b, into: out, Float.self)
        case .float64: Self.binary(f, a, b, into: out, Double.self)
        }
    }

    func select(_ mask: Tensor, _ a: Tensor, _ b: Tensor, into out: Tensor) {
        switch out.dtype {
        case .float32: ElementwiseKernels.select(mask, a, b, into: out, Float.self)
        case .float64: ElementwiseKernels.select(mask, a, b, into: out, Double.self)
        }
    }

    func multiplyAdd(_ a: Tensor, _ scale: Tensor, _ addend: Tensor, into out: Tensor) {
        switch out.dtype {
        case .float32: ElementwiseKernels.multiplyAdd(a, scale, addend, into: out, Float.self)
        case .float64: ElementwiseKernels.multiplyAdd(a, scale, addend, into: out, Double.self)
        }
    }

    func copy(_ source: Tensor, into out: Tensor) {
        switch out.dtype {
        case .float32: ElementwiseKernels.map(source, into: out, ElementFunctions.Identity<Float>())
        case .float64: ElementwiseKernels.map(source, into: out, ElementFunctions.Identity<Double>())
        }
    }

    func matmul(_ a: Tensor, _ b: Tensor, into out: Tensor) {
        switch out.dtype {
        case .float32: Self.matmul(a, b, into: out, Float.self)
        case .float64: Self.matmul(a, b, into: out, Double.self)
        }
    }

    /// `f(x)` for elements of type `T`; float32 exp, sigmoid, silu, erf and gelu through ``VectorMath``.
    private static func unary<T: TensorScalar>(_ f: UnaryFunction, _ x: Tensor, into out: Tensor, _: T.Type) {
        typealias K = ElementwiseKernels
        typealias E = ElementFunctions
        if T.self == Float.self, vectorised(f, x, into: out) { return }
        switch f {
        case .negate: K.map(x, into: out, E.Negate<T>())
        case .exp: K.map(x, into: out, E.Exp<T>())
        case .log: K.map(x, into: out, E.Log<T>())
        case .sqrt: K.map(x, into: out, E.Sqrt<T>())
        case .rsqrt: K.map(x, into: out, E.Rsqrt<T>())
        case .abs: K.map(x, into: out, E.Abs<T>())
        case .tanh: K.map(x, into: out, E.Tanh<T>())
        case .sigmoid: K.map(x, into: out, E.Sigmoid<T>())
        case .silu: K.map(x, into: out, E.Silu<T>())
        case .gelu: K.map(x, into: out, E.Gelu<T>())
        case .relu: K.map(x, into: out, E.Relu<T>())
        case .softplus: K.map(x, into: out, E.Softplus<T>())
        case .erf: K.map(x, into: out, E.Erf<T>())
        case .sign: K.map(x, into: out, E.Sign<T>())
        case let .affine(scale, shift): K.map(x, into: out, E.Affine<T>(scale: T(scale), shift: T(shift)))
        case let .power(p):
            if p == 2 {
                K.map(x, into: out, E.Square<T>())
            } else if p == p.rounded(), Swift.abs(p) <= 0x1p31 {
                // Integer exponents by repeated multiplication: defined for negative bases (the real-exponent
                // pow is exp(p log x), NaN for x < 0) and with 0^0 = 1, as the gradient of x^1 needs.
                K.map(x, into: out, E.IntegerPower<T>(exponent: Int(p)))
            } else {
                K.map(x, into: out, E.RealPower<T>(exponent: T(p)))
            }
        case let .clamp(lower, upper): K.map(x, into: out, E.Clamp<T>(lower: T(lower), upper: T(upper)))
        }
    }

    /// The float32 fast path through ``VectorMath`` for the functions that have one; false when `f` has none.
    /// Contiguous tensors on a CPU with AVX2 take the same algorithm compiled for it, with the same results
    /// (``VectorMath/avx2Function(_:)``).
    private static func vectorised(_ f: UnaryFunction, _ x: Tensor, into out: Tensor) -> Bool {
        typealias K = ElementwiseKernels
        typealias E = ElementFunctions
        if let function = VectorMath.avx2Function(f), x.shape == out.shape, x.isContiguous, out.isContiguous {
            let (p, o) = (x.pointer(Float.self), out.pointer(Float.self))
            Parallel.forRanges(out.count, grain: Parallel.elementwiseGrain) { r in
                titans_vector_function_avx2(function, p + r.lowerBound, o + r.lowerBound, r.count)
            }
            return true
        }
        switch f {
        case .exp: K.map(x, into: out, E.FastExp())
        case .sigmoid: K.map(x, into: out, E.FastSigmoid())
        case .silu: K.map(x, into: out, E.FastSilu())
        case .erf: K.map(x, into: out, E.FastErf())
        case .gelu: K.map(x, into: out, E.FastGelu())
        default: return false
        }
        return true
    }

    private static func binary<T: TensorScalar>(_ f: BinaryFunction, _ a: Tensor, _ b: Tensor, into out: Tensor, _: T.Type) {
        typealias K = ElementwiseKernels
        typealias E = ElementFunctions
        switch f {
        case .add: K.zip(a, b, into: out, E.Add<T>())
        case .subtract: K.zip(a, b, into: out, E.Subtract<T>())
        case .multiply: K.zip(a, b, into: out, E.Multiply<T>())
        case .divide: K.zip(a, b, into: out, E.Divide<T>())
        case .pow: K.zip(a, b, into: out, E.Power<T>())
        case .maximum: K.zip(a, b, into: out, E.Maximum<T>())
        case .minimum: K.zip(a, b, into: out, E.Minimum<T>())
        case .equal: K.zip(a, b, into: out, E.Compare<T>(comparison: .equal))
        case .notEqual: K.zip(a, b, into: out, E.Compare<T>(comparison: .notEqual))
        case .less: K.zip(a, b, into: out, E.Compare<T>(comparison: .less))
        case .lessOrEqual: K.zip(a, b, into: out, E.Compare<T>(comparison: .lessOrEqual))
        case .greater: K.zip(a, b, into: out, E.Compare<T>(comparison: .greater))
        case .greaterOrEqual: K.zip(a, b, into: out, E.Compare<T>(comparison: .greaterOrEqual))
        }
    }

    /// How a `rows × cols` matrix view is handed to BLAS: transposed or not, and its leading dimension;
    /// `nil` when its strides fit neither layout and it must be copied.
    private static func blasLayout(rows: Int, cols: Int, rowStride: Int, colStride: Int) -> (transposed: Bool, ld: Int)? {
        let rs = rows == 1 ? Swift.max(cols, 1) : rowStride
        let cs = cols == 1 ? 1 : colStride
        if cs == 1 && rs >= Swift.max(cols, 1) { return (false, rs) }
        let rs2 = rows == 1 ? 1 : rowStride, cs2 = cols == 1 ? Swift.max(rows, 1) : colStride
        if rs2 == 1 && cs2 >= Swift.max(rows, 1) { return (true, cs2) }
        return nil
    }

    /// Whether the rows of every matrix in the batch of `a` sit one row stride apart, batch after batch
    /// (dims of size 1 skipped, whatever their stride), so the whole batch is one matrix of `a.count / k` rows.
    private static func rowsEvenlySpaced(_ a: Tensor) -> Bool {
        var expected = a.strides[a.rank - 2] * a.shape[a.rank - 2]
        for d in stride(from: a.rank - 3, through: 0, by: -1) where a.shape[d] != 1 {
            if a.strides[d] != expected { return false }
            expected *= a.shape[d]
        }
        return true
    }

    /// Through ``BLAS``: transposed views go as transpose flags, not copies; other strides are copied first.
    private static func matmul<T: TensorScalar>(_ a: Tensor, _ b: Tensor, into out: Tensor, _: T.Type) {
        let (m, k, n) = (a.shape[a.rank - 2], a.shape[a.rank - 1], b.shape[b.rank - 1])
        let c = out.pointer(T.self)
        if m == 0 || n == 0 { return }
        if k == 0 {
            c.initialize(repeating: 0, count: out.count)
            return
        }
        // A batched left operand times one matrix: fold the batch into the rows when its rows are evenly spaced.
        if b.rank == 2, a.rank > 2, a.strides[a.rank - 1] == 1, rowsEvenlySpaced(a),
           let lb = blasLayout(rows: k, cols: n, rowStride: b.strides[0], colStride: b.strides[1]),
           a.strides[a.rank - 2] >= k {
            let rows = a.count / k
            BLAS.gemm(transA: false, transB: lb.transposed, m: rows, n: n, k: k, alpha: 1, a: a.pointer(T.self),
                      lda: a.strides[a.rank - 2], b: b.pointer(T.self), ldb: lb.ld, beta: 0, c: c, ldc: n)
            return
        }
        var a = a, b = b
        // A view whose strides fit neither layout is copied densely first.
        let (ta, lda): (Bool, Int)
        if let layout = blasLayout(rows: m, cols: k, rowStride: a.strides[a.rank - 2], colStride: a.strides[a.rank - 1]) {
            (ta, lda) = layout
        } else {
            (a, ta, lda) = (a.contiguousData(), false, k)
        }
        let (tb, ldb): (Bool, Int)
        if let layout = blasLayout(rows: k, cols: n, rowStride: b.strides[b.rank - 2], colStride: b.strides[b.rank - 1]) {
            (tb, ldb) = layout
        } else {
            (b, tb, ldb) = (b.contiguousData(), false, n)
        }
        let batchShape = Array(out.shape.dropLast(2))
        let batchCount = Shape.count(batchShape)
        let aStrides = ElementwisePlan.broadcastStrides(Tensor(storage: a.storage, shape: Array(a.shape.dropLast(2)),
                                                               strides: Array(a.strides.dropLast(2))), to: batchShape)
        let bStrides = ElementwisePlan.broadcastStrides(Tensor(storage: b.storage, shape: Array(b.shape.dropLast(2)),
                                                               strides: Array(b.strides.dropLast(2))), to: batchShape)
        let pa = a.pointer(T.self), pb = b.pointer(T.self)
        func product(_ i: Int, threads: Int) {
            var rest = i, oa = 0, ob = 0
            for d in stride(from: batchShape.count - 1, through: 0, by: -1) {
                let index = rest % batchShape[d]
                rest /= batchShape[d]
                oa += index * aStrides[d]
                ob += index * bStrides[d]
            }
            BLAS.gemm(transA: ta, transB: tb, m: m, n: n, k: k, alpha: 1, a: pa + oa, lda: lda, b: pb + ob, ldb: ldb,
                      beta: 0, c: c + i * m * n, ldc: n, threads: threads)
        }
        // Many products (the memory's per-head matrices): whole products to each core, when they are small (cutting
        // one costs more than it gains) or share evenly among the cores (16 products of 64×64×256 or 256×64×64, each
        // cut in two, took 1.6–2× as long on 2 cores). Few or unevenly many large ones: each product cut across the cores.
        let perProduct = 2 * m * n * k, threads = Parallel.availableThreads
        if batchCount >= threads && perProduct * batchCount > GEMMSlabs.parallelThreshold
            && (perProduct <= GEMMSlabs.parallelThreshold || batchCount % threads == 0) {
            Parallel.forRanges(batchCount, grain: 1) { range in
                for i in range { product(i, threads: 1) }
            }
        } else {
            for i in 0..<batchCount { product(i, threads: Parallel.availableThreads) }
        }
    }
}
