extension CUDAMatmulPlan.ColumnMajorProduct {
    /// The product as cuBLAS's `gemmStridedBatched` defines it (α = 1, β = 0), one element at a time on host memory, for
    /// the tests: `C_i[r + c·ldc] = Σ_q op(First_i)[r, q] · op(Second_i)[q, c]`, op(X)[r, q] = X[r + q·ld]
    /// untransposed and X[q + r·ld] transposed, operand `X_i` at `X + i · strideX`.
    func reference<T: TensorScalar>(first: UnsafePointer<T>, second: UnsafePointer<T>, c: UnsafeMutablePointer<T>) {
        for i in 0..<batch {
            let (f, s, out) = (first + i * strideFirst, second + i * strideSecond, c + i * strideC)
            for row in 0..<m {
                for column in 0..<n {
                    var total: T = 0
                    for q in 0..<k {
                        let x = transposeFirst ? f[q + row * ldFirst] : f[row + q * ldFirst]
                        let y = transposeSecond ? s[column + q * ldSecond] : s[q + column * ldSecond]
                        total += x * y
                    }
                    out[row + column * ldc] = total
                }
            }
        }
    }
}
