import Dispatch

/// Splits a row-major GEMM `C = alpha · op(A) · op(B) + beta · C` (CBLAS shapes) into one slab of C per core along
/// its larger dimension, so that every matrix product uses both cores whichever kernel computes it: the built-in
/// kernel, or a BLAS library kept single-threaded (``BLAS``: a library's own worker threads spin between calls and
/// take the core the elementwise ops need).
enum GEMMSlabs {
    /// Up to this many flops (2·m·n·k) a product stays on the calling thread: at 64³ two threads at best break even
    /// with one (dispatch costs a few µs), at 96³ they are ~1.6× faster.
    static let parallelThreshold = 2 * 64 * 64 * 64

    /// Calls `slab(m, n, a, b, c)` for the sub-problems: rows of op(A) and C, or columns of op(B) and C, with slab
    /// edges on multiples of `rowUnit` / `columnUnit` (a kernel's micro-tile). One call on the calling thread when
    /// the product is small or `threads` is 1.
    static func run<T>(transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
                       a: UnsafePointer<T>, lda: Int, b: UnsafePointer<T>, ldb: Int, c: UnsafeMutablePointer<T>, ldc: Int,
                       threads: Int, rowUnit: Int = 1, columnUnit: Int = 1,
                       _ slab: (Int, Int, UnsafePointer<T>, UnsafePointer<T>, UnsafeMutablePointer<T>) -> Void) {
        let flops = 2.0 * Double(m) * Double(n) * Double(k)
        let splitRows = m >= n
        let unit = splitRows ? rowUnit : columnUnit
        let units = ((splitRows ? m : n) + unit - 1) / unit
        let parts = flops <= Double(parallelThreshold) ? 1 : min(threads, units)
        if parts <= 1 { return slab(m, n, a, b, c) }
        WorkerPool.shared.perform(parts) { t in
            let lo = (units * t / parts) * unit
            let hi = min((units * (t + 1) / parts) * unit, splitRows ? m : n)
            if lo >= hi { return }
            if splitRows {  // rows lo..<hi of op(A) and C
                slab(hi - lo, n, transA ? a + lo : a + lo * lda, b, c + lo * ldc)
            } else {        // columns lo..<hi of op(B) and C
                slab(m, hi - lo, a, transB ? b + lo * ldb : b + lo, c + lo)
            }
        }
    }
}
