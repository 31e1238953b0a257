/// Matrix product with broadcast batch dimensions. Transposed views go to BLAS as transpose flags, not copies.
extension Tensor {
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

    /// `self @ other` for tensors of rank ≥ 2: `[..., m, k] @ [..., k, n] -> [..., m, n]`, batch dims broadcast.
    public func matmul(_ other: Tensor) -> Tensor {
        OpProfile.measure("matmul") {
            precondition(rank >= 2 && other.rank >= 2, "matmul: needs rank ≥ 2 operands, got \(shape) @ \(other.shape)")
            expectDType(other, "matmul")
            let (m, k, n) = (shape[rank - 2], shape[rank - 1], other.shape[other.rank - 1])
            precondition(other.shape[other.rank - 2] == k, "matmul: inner dimensions differ in \(shape) @ \(other.shape)")
            let batch = Shape.broadcast([Array(shape.dropLast(2)), Array(other.shape.dropLast(2))], op: "matmul")
            let out = Tensor(uninitializedShape: batch + [m, n], dtype: dtype)
            switch dtype {
            case .float32: Tensor.multiply(self, other, into: out, Float.self)
            case .float64: Tensor.multiply(self, other, into: out, Double.self)
            }
            if FLOPCount.isCounting { FLOPCount.add(2 * m * n * k * Shape.count(batch)) }
            return Tensor.record(out, "matmul", [self, other]) { ctx in
                let (a, b, g) = (ctx.inputs[0], ctx.inputs[1], ctx.grad)
                let ga = ctx.needs[0] ? g.matmul(b.transposed()).sum(toShape: a.shape) : nil
                var gb: Tensor?
                if ctx.needs[1] {
                    // A matrix shared by every batch: one product over all batch rows instead of a batch and a sum.
                    gb = b.rank == 2 && a.rank > 2
                        ? a.reshape([-1, k]).transposed().matmul(g.reshape([-1, n]))
                        : a.transposed().matmul(g).sum(toShape: b.shape)
                }
                return [ga, gb]
            }
        }
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

    private static func multiply<T: TensorScalar>(_ a: Tensor, _ b: Tensor, into out: Tensor, _: T.Type) {
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
        var la = blasLayout(rows: m, cols: k, rowStride: a.strides[a.rank - 2], colStride: a.strides[a.rank - 1])
        if la == nil { a = a.contiguousData(); la = (false, k) }
        var lb = blasLayout(rows: k, cols: n, rowStride: b.strides[b.rank - 2], colStride: b.strides[b.rank - 1])
        if lb == nil { b = b.contiguousData(); lb = (false, n) }
        let batchShape = Array(out.shape.dropLast(2))
        let batchCount = Shape.count(batchShape)
        let aStrides = ElementwisePlan.broadcastStrides(Tensor(storage: a.storage, shape: Array(a.shape.dropLast(2)),
                                                               strides: Array(a.strides.dropLast(2))), to: batchShape)
        let bStrides = ElementwisePlan.broadcastStrides(Tensor(storage: b.storage, shape: Array(b.shape.dropLast(2)),
                                                               strides: Array(b.strides.dropLast(2))), to: batchShape)
        let pa = a.pointer(T.self), pb = b.pointer(T.self)
        let (ta, tb) = (la!.transposed, lb!.transposed), (lda, ldb) = (la!.ld, lb!.ld)
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
        // Many small products (the memory's per-head matrices): whole products to each core. Few large ones: each
        // product cut across the cores.
        let perProduct = 2 * m * n * k
        if batchCount >= Parallel.availableThreads && perProduct <= GEMMSlabs.parallelThreshold
            && perProduct * batchCount > GEMMSlabs.parallelThreshold {
            Parallel.forRanges(batchCount, grain: 1) { range in
                for i in range { product(i, threads: 1) }
            }
        } else {
            for i in 0..<batchCount { product(i, threads: Parallel.availableThreads) }
        }
    }
}
