import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Matrix multiply through an optimised BLAS loaded at run time (OpenBLAS on Linux, Accelerate on macOS),
/// or the built-in kernel when none can be loaded; the fallback is announced once on standard error.
///
/// The library runs on one thread per call (but a large matrix–vector product, `wideVectorProduct`);
/// `GEMMSlabs` cuts large products into one slab per core.
///
/// Set `TITANS_BLAS=builtin` to force the built-in kernel, or `TITANS_BLAS=/path/to/libblas.so` to load a
/// specific CBLAS library.
///
/// ```swift
/// print(BLAS.backendName)   // "libopenblas.so.0", or "built-in"
/// ```
public enum BLAS {
    private typealias SGEMM = @convention(c) (Int32, Int32, Int32, Int32, Int32, Int32, Float,
                                              UnsafePointer<Float>?, Int32, UnsafePointer<Float>?, Int32,
                                              Float, UnsafeMutablePointer<Float>?, Int32) -> Void
    private typealias DGEMM = @convention(c) (Int32, Int32, Int32, Int32, Int32, Int32, Double,
                                              UnsafePointer<Double>?, Int32, UnsafePointer<Double>?, Int32,
                                              Double, UnsafeMutablePointer<Double>?, Int32) -> Void
    private typealias SGEMV = @convention(c) (Int32, Int32, Int32, Int32, Float, UnsafePointer<Float>?, Int32,
                                              UnsafePointer<Float>?, Int32, Float, UnsafeMutablePointer<Float>?, Int32) -> Void
    private typealias DGEMV = @convention(c) (Int32, Int32, Int32, Int32, Double, UnsafePointer<Double>?, Int32,
                                              UnsafePointer<Double>?, Int32, Double, UnsafeMutablePointer<Double>?, Int32) -> Void

    private struct Library {
        let name: String
        let sgemm: SGEMM
        let dgemm: DGEMM
        let sgemv: SGEMV
        let dgemv: DGEMV
        /// OpenBLAS's thread count, when the library is OpenBLAS.
        let setThreads: (@convention(c) (Int32) -> Void)?
    }

    /// Matrix elements from which a matrix–vector product runs on the library's threads: decoding one token is bound
    /// by reading each weight matrix, which both cores do faster, and the library's threads wake faster than ours.
    static let wideVectorProduct = 1 << 16

    private static let rowMajor: Int32 = 101, noTranspose: Int32 = 111, transpose: Int32 = 112

    private static let library: Library? = {
        let request = ProcessInfo.processInfo.environment["TITANS_BLAS"]
        if request == "builtin" { return nil }
        #if os(macOS)
        let candidates = [request ?? "/System/Library/Frameworks/Accelerate.framework/Accelerate"]
        #else
        let candidates = request.map { [$0] } ?? ["libopenblas.so.0", "libopenblas.so"]
        #endif
        for path in candidates {
            guard let handle = dlopen(path, RTLD_NOW | RTLD_LOCAL),
                  let s = dlsym(handle, "cblas_sgemm"), let d = dlsym(handle, "cblas_dgemm"),
                  let sv = dlsym(handle, "cblas_sgemv"), let dv = dlsym(handle, "cblas_dgemv") else { continue }
            // One thread inside the library: `GEMMSlabs` spreads products over the cores, and idle library threads
            // would spin (sched_yield) on the core the elementwise ops run on.
            let setThreads = dlsym(handle, "openblas_set_num_threads").map {
                unsafeBitCast($0, to: (@convention(c) (Int32) -> Void).self)
            }
            setThreads?(1)
            return Library(name: path, sgemm: unsafeBitCast(s, to: SGEMM.self), dgemm: unsafeBitCast(d, to: DGEMM.self),
                           sgemv: unsafeBitCast(sv, to: SGEMV.self), dgemv: unsafeBitCast(dv, to: DGEMV.self),
                           setThreads: setThreads)
        }
        FileHandle.standardError.write(Data((
            "titans: no BLAS library could be loaded (\(candidates.joined(separator: ", "))); using the built-in matmul kernel, "
                + "which is slower. On Debian/Ubuntu: apt-get install libopenblas0\n").utf8))
        return nil
    }()

    /// Which matrix-multiply backend is in use: the loaded library's name, or "built-in".
    public static var backendName: String { library?.name ?? "built-in" }

    /// Row-major `C = alpha * op(A) * op(B) + beta * C` (op transposes when asked); shapes as in CBLAS, on up to
    /// `threads` cores (default: all, through `GEMMSlabs`). A product with one row or one column (decoding a single
    /// token) goes to the library's matrix–vector product.
    public static func gemm<T: TensorScalar>(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: T,
                                      a: UnsafePointer<T>, lda: Int, b: UnsafePointer<T>, ldb: Int,
                                      beta: T, c: UnsafeMutablePointer<T>, ldc: Int, forceBuiltin: Bool = false,
                                      threads: Int? = nil) {
        let threads = threads ?? Parallel.availableThreads
        guard let library = forceBuiltin ? nil : self.library else {
            if let (a, b, c) = rebound(a, b, c, as: Float.self) {
                BuiltinGEMM.sgemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: Float(alpha), a: a, lda: lda,
                                  b: b, ldb: ldb, beta: Float(beta), c: c, ldc: ldc, threads: threads)
            } else if let (a, b, c) = rebound(a, b, c, as: Double.self) {
                BuiltinGEMM.dgemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: Double(alpha), a: a, lda: lda,
                                  b: b, ldb: ldb, beta: Double(beta), c: c, ldc: ldc, threads: threads)
            }
            return
        }
        if m == 0 || n == 0 { return }
        // One large matrix–vector product with every core free: on the library's own threads for this call, unless
        // such calls have lately waited for a core (``WideProducts``: then on this thread alone).
        let vectorProduct = threads > 1 && min(m, n) == 1 && max(m, n) * k >= wideVectorProduct
        let allowed = vectorProduct && WideProducts.shared.withLock { $0.allowed() }
        let wide = allowed ? library.setThreads : nil
        let began = allowed ? DispatchTime.now().uptimeNanoseconds : 0
        wide?(Int32(threads))
        defer {
            wide?(1)
            if allowed {
                let elapsed = DispatchTime.now().uptimeNanoseconds - began
                WideProducts.shared.withLock { $0.record(nanoseconds: elapsed, elements: max(m, n) * k) }
            }
        }
        GEMMSlabs.run(transA: transA, transB: transB, m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb, c: c, ldc: ldc,
                      threads: wide != nil || (vectorProduct && !allowed) ? 1 : threads) { m, n, a, b, c in
            let v = VectorProduct(transA: transA, transB: transB, m: m, n: n, k: k, lda: lda, ldb: ldb, ldc: ldc)
            let (ta, tb) = (transA ? transpose : noTranspose, transB ? transpose : noTranspose)
            if let (a, b, c) = rebound(a, b, c, as: Float.self) {
                if let v {
                    library.sgemv(rowMajor, v.transpose ? transpose : noTranspose, v.rows, v.columns, Float(alpha),
                                  v.matrixIsA ? a : b, v.ld, v.matrixIsA ? b : a, v.incX, Float(beta), c, v.incY)
                } else {
                    library.sgemm(rowMajor, ta, tb, Int32(m), Int32(n), Int32(k), Float(alpha), a, Int32(lda), b, Int32(ldb),
                                  Float(beta), c, Int32(ldc))
                }
            } else if let (a, b, c) = rebound(a, b, c, as: Double.self) {
                if let v {
                    library.dgemv(rowMajor, v.transpose ? transpose : noTranspose, v.rows, v.columns, Double(alpha),
                                  v.matrixIsA ? a : b, v.ld, v.matrixIsA ? b : a, v.incX, Double(beta), c, v.incY)
                } else {
                    library.dgemm(rowMajor, ta, tb, Int32(m), Int32(n), Int32(k), Double(alpha), a, Int32(lda), b, Int32(ldb),
                                  Double(beta), c, Int32(ldc))
                }
            }
        }
    }

    /// The operands as pointers to `U` when `T` is `U`.
    @inline(__always)
    private static func rebound<T, U>(_ a: UnsafePointer<T>, _ b: UnsafePointer<T>, _ c: UnsafeMutablePointer<T>,
                                      as _: U.Type) -> (UnsafePointer<U>, UnsafePointer<U>, UnsafeMutablePointer<U>)? {
        guard T.self == U.self else { return nil }
        return (UnsafeRawPointer(a).assumingMemoryBound(to: U.self), UnsafeRawPointer(b).assumingMemoryBound(to: U.self),
                UnsafeMutableRawPointer(c).assumingMemoryBound(to: U.self))
    }

    /// A product `op(A)·op(B)` with one row (m = 1) or one column (n = 1) as CBLAS `gemv(trans, rows, columns,
    /// matrix, ld, x, incX, y, incY)`: for m = 1 the matrix is B and x the row of A (y_j = Σ_p x_p op(B)_pj); for
    /// n = 1 the matrix is A and x the column of B, and y is C's column (stride ldc). Nil for k = 0 (C = βC is
    /// left to gemm).
    private struct VectorProduct {
        let matrixIsA: Bool, transpose: Bool
        let rows: Int32, columns: Int32, ld: Int32, incX: Int32, incY: Int32

        init?(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, lda: Int, ldb: Int, ldc: Int) {
            guard k > 0 else { return nil }
            if m == 1 {
                // B is stored k×n (op(B) = B: y = Bᵀx) or n×k (op(B) = Bᵀ: y = Bx); A's row has stride lda when
                // A is stored as a k×1 column.
                (matrixIsA, transpose, ld, incX, incY) = (false, !transB, Int32(ldb), Int32(transA ? lda : 1), 1)
                (rows, columns) = transB ? (Int32(n), Int32(k)) : (Int32(k), Int32(n))
            } else if n == 1 {
                (matrixIsA, transpose, ld, incX, incY) = (true, transA, Int32(lda), Int32(transB ? 1 : ldb), Int32(ldc))
                (rows, columns) = transA ? (Int32(k), Int32(m)) : (Int32(m), Int32(k))
            } else {
                return nil
            }
        }
    }
}
