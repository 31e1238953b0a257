/// How ``CUDABackend`` computes `out = a · b` (row-major, batch dimensions broadcast) with cuBLAS (column-major): the
/// operands as they go to the GPU (their views, or dense copies where the strides fit neither layout) and the calls,
/// one strided-batched product when the batch dimensions fold into one stride per operand, else one per product.
/// A plain value, so the tests run it through a column-major reference of cuBLAS's product on the CPU.
///
/// ```swift
/// let plan = CUDAMatmulPlan(a, b, out: out)   // nil when k = 0 (or m or n)
/// ```
struct CUDAMatmulPlan {
    /// One product call: where its first matrices start (elements from each operand's view) and the batch strides.
    struct Call: Equatable {
        let offsetA: Int, offsetB: Int, offsetC: Int
        let strideA: Int, strideB: Int, batch: Int
    }

    /// A call in cuBLAS's terms: `C_i = op(First_i) · op(Second_i)`, column-major, `m × n` from `k`.
    struct ColumnMajorProduct: Equatable {
        let transposeFirst: Bool, transposeSecond: Bool
        let m: Int, n: Int, k: Int
        let ldFirst: Int, strideFirst: Int, ldSecond: Int, strideSecond: Int, ldc: Int, strideC: Int, batch: Int
    }

    let a: Tensor, b: Tensor
    /// Whether each operand's stored matrices are the transposes of its rows (its view's column stride is 1).
    let transA: Bool, transB: Bool
    let m: Int, n: Int, k: Int, lda: Int, ldb: Int
    let calls: [Call]

    init?(_ a: Tensor, _ b: Tensor, out: Tensor) {
        let (m, k, n) = (a.shape[a.rank - 2], a.shape[a.rank - 1], b.shape[b.rank - 1])
        guard m > 0, n > 0, k > 0 else { return nil }
        /// A view whose matrices are dense rows (column stride 1) or dense columns (row stride 1), or a dense copy.
        func matrices(_ t: Tensor, rows: Int, columns: Int) -> (Tensor, transposed: Bool, ld: Int) {
            let (rowStride, columnStride) = (t.strides[t.rank - 2], t.strides[t.rank - 1])
            if columnStride == 1 && rowStride >= Swift.max(columns, 1) { return (t, false, rowStride) }
            if rowStride == 1 && columnStride >= Swift.max(rows, 1) { return (t, true, columnStride) }
            return (t.contiguousData(), false, columns)
        }
        (self.m, self.n, self.k) = (m, n, k)
        (self.a, transA, lda) = matrices(a, rows: m, columns: k)
        (self.b, transB, ldb) = matrices(b, rows: k, columns: n)
        let batchShape = Array(out.shape.dropLast(2))
        let aStrides = CUDALayout.batchStrides(self.a, to: batchShape), bStrides = CUDALayout.batchStrides(self.b, to: batchShape)
        if let (sa, sb) = CUDALayout.foldedBatchStrides(batchShape, aStrides, bStrides) {
            calls = [Call(offsetA: 0, offsetB: 0, offsetC: 0, strideA: sa, strideB: sb, batch: Shape.count(batchShape))]
        } else {
            calls = (0..<Shape.count(batchShape)).map { i in
                let (oa, ob) = CUDALayout.batchOffsets(i, batchShape, aStrides, bStrides)
                return Call(offsetA: oa, offsetB: ob, offsetC: i * m * n, strideA: 0, strideB: 0, batch: 1)
            }
        }
    }

    /// `call` as cuBLAS computes it: a row-major `C` (`m × n`, leading dimension n) read column-major is `Cᵀ`, and
    /// `Cᵀ = op(B)ᵀ · op(A)ᵀ`, so cuBLAS's first operand is B (`n × k`) and its second A (`k × m`); a row-major matrix
    /// read column-major is its transpose, so an operand is transposed for cuBLAS exactly when it is stored transposed.
    func columnMajor(_ call: Call) -> ColumnMajorProduct {
        ColumnMajorProduct(transposeFirst: transB, transposeSecond: transA, m: n, n: m, k: k, ldFirst: ldb,
                           strideFirst: call.strideB, ldSecond: lda, strideSecond: call.strideA, ldc: n, strideC: m * n,
                           batch: call.batch)
    }
}
