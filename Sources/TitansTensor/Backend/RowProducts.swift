import CTitansKernels

/// Products of one float32 row with small row-major matrices, on the calling thread: the loops of the memory's
/// one-token step while decoding, which reads a few 64×128 matrices per head and token (too small for the BLAS's
/// setup to pay). On a CPU with AVX2 and FMA they run the C kernels (`CTitansKernels/RowProductsAVX2.c`: the result
/// held in registers while the rows stream past); elsewhere, and as the reference the tests hold those kernels to,
/// the portable loops here.
///
/// ```swift
/// // y = 0.5 · row 0 of A + 2 · row 1 of A, A 2×3
/// RowProducts.weightedRows(rows: 2, columns: 3, a, matrix, into: y)
/// ```
public enum RowProducts {
    /// `y[j] (+)= Σ_i a[i] · A[i, j] + b[i] · B[i, j]` for `A` (and `B`) `rows × columns`: the row `a` through `A`, plus
    /// `b` through `B` when given; added to `y` when `accumulate`, written over it otherwise.
    public static func weightedRows(rows: Int, columns: Int, _ a: UnsafePointer<Float>, _ A: UnsafePointer<Float>,
                                    plus second: (b: UnsafePointer<Float>, B: UnsafePointer<Float>)? = nil,
                                    into y: UnsafeMutablePointer<Float>, accumulate: Bool = false,
                                    kernel: CPUKernel = .fastest) {
        if kernel == .avx2FMA {
            titans_weighted_rows_avx2(rows, columns, a, A, second?.b, second?.B, y, accumulate)
            return
        }
        if !accumulate { y.update(repeating: 0, count: columns) }
        for i in 0..<rows {
            let (weight, row) = (a[i], A + i * columns)
            if let (b, B) = second {
                let (other, otherRow) = (b[i], B + i * columns)
                for j in 0..<columns { y[j] += weight * row[j] + other * otherRow[j] }
            } else {
                for j in 0..<columns { y[j] += weight * row[j] }
            }
        }
    }

    /// `y[i] = Σ_j A[i, j] · x[j]` for `A` `rows × columns`: the matrix times the column `x`.
    public static func rowDots(rows: Int, columns: Int, _ A: UnsafePointer<Float>, _ x: UnsafePointer<Float>,
                               into y: UnsafeMutablePointer<Float>, kernel: CPUKernel = .fastest) {
        if kernel == .avx2FMA {
            titans_row_dots_avx2(rows, columns, A, x, y)
            return
        }
        for i in 0..<rows { y[i] = dot(A + i * columns, x, columns) }
    }

    /// Σ a_i b_i over `count` elements, in eight partial sums.
    @inline(__always) public static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ count: Int) -> Float {
        var sums = SIMD8<Float>()
        var i = 0
        while i + 8 <= count {
            sums += UnsafeRawPointer(a + i).loadUnaligned(as: SIMD8<Float>.self) * UnsafeRawPointer(b + i).loadUnaligned(as: SIMD8<Float>.self)
            i += 8
        }
        var total = sums.sum()
        while i < count {
            total += a[i] * b[i]
            i += 1
        }
        return total
    }
}
