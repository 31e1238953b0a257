import Foundation

/// cuBLAS (`libcublas.so.13` or `.12`), loaded at run time: row-major strided-batched matrix products on device
/// memory, float32 and float64, in full float32 precision unless TF32 is allowed (`TITANS_CUDA_TF32=1`).
///
/// ```swift
/// let blas = try CUBLAS.open()
/// let plan = CUDAMatmulPlan(a, b, out: out)!          // row-major tensors
/// for call in plan.calls { try blas.gemm(Float.self, plan.columnMajor(call), first: bOnDevice, second: aOnDevice, c: cOnDevice) }
/// ```
final class CUBLAS: @unchecked Sendable {
    typealias DevicePointer = CUDADriver.DevicePointer
    private typealias Create = @convention(c) (UnsafeMutablePointer<OpaquePointer?>?) -> Int32
    private typealias SetMathMode = @convention(c) (OpaquePointer?, Int32) -> Int32
    private typealias SGEMM = @convention(c) (OpaquePointer?, Int32, Int32, Int32, Int32, Int32, UnsafePointer<Float>?,
                                              DevicePointer, Int32, Int64, DevicePointer, Int32, Int64,
                                              UnsafePointer<Float>?, DevicePointer, Int32, Int64, Int32) -> Int32
    private typealias DGEMM = @convention(c) (OpaquePointer?, Int32, Int32, Int32, Int32, Int32, UnsafePointer<Double>?,
                                              DevicePointer, Int32, Int64, DevicePointer, Int32, Int64,
                                              UnsafePointer<Double>?, DevicePointer, Int32, Int64, Int32) -> Int32

    let library: SharedLibrary
    private let handle: OpaquePointer?
    private let sgemm: SGEMM, dgemm: DGEMM

    /// cuBLAS on the current context; throws when the library is missing or will not start.
    static func open() throws -> CUBLAS {
        let candidates = SharedLibrary.candidates(override: ProcessInfo.processInfo.environment["TITANS_CUBLAS_LIBRARY"],
                                                  sonames: ["libcublas.so.13", "libcublas.so.12", "libcublas.so"],
                                                  wheelFolders: ["nvidia/cu13/lib", "nvidia/cublas/lib"])
        guard let library = SharedLibrary(firstOf: candidates) else {
            throw CUDADriver.Failure(call: "dlopen(libcublas)", status: -1,
                                     message: "no cuBLAS library found (\(candidates.prefix(3).joined(separator: ", "))); "
                                        + "install CUDA's cuBLAS or the PyPI wheel nvidia-cublas and name its folder in TITANS_CUDA_PATH")
        }
        return try CUBLAS(library: library)
    }

    private init(library: SharedLibrary) throws {
        guard let create = library.function("cublasCreate_v2", Create.self),
              let sgemm = library.function("cublasSgemmStridedBatched", SGEMM.self),
              let dgemm = library.function("cublasDgemmStridedBatched", DGEMM.self) else {
            throw CUDADriver.Failure(call: "dlsym", status: -1, message: "\(library.name) lacks the cuBLAS functions used here")
        }
        var handle: OpaquePointer?
        let status = create(&handle)
        guard status == 0 else { throw CUDADriver.Failure(call: "cublasCreate", status: status, message: "cuBLAS did not start") }
        if ProcessInfo.processInfo.environment["TITANS_CUDA_TF32"] == "1" {
            _ = library.function("cublasSetMathMode", SetMathMode.self)?(handle, 3)  // CUBLAS_TF32_TENSOR_OP_MATH
        }
        self.library = library
        self.handle = handle
        self.sgemm = sgemm
        self.dgemm = dgemm
    }

    /// One column-major strided-batched product as cuBLAS takes it (``CUDAMatmulPlan/columnMajor(_:)`` makes it):
    /// `C_i = opFirst(First_i) · opSecond(Second_i)`, `m × n` from `k`, operand `X_i` at `X + i · strideX` elements.
    func gemm<T: TensorScalar>(_: T.Type, _ p: CUDAMatmulPlan.ColumnMajorProduct, first: DevicePointer, second: DevicePointer,
                               c: DevicePointer) throws {
        let (opFirst, opSecond) = (Int32(p.transposeFirst ? 1 : 0), Int32(p.transposeSecond ? 1 : 0))
        let status: Int32
        if T.self == Float.self {
            var (one, zero): (Float, Float) = (1, 0)
            status = sgemm(handle, opFirst, opSecond, Int32(p.m), Int32(p.n), Int32(p.k), &one, first, Int32(p.ldFirst),
                           Int64(p.strideFirst), second, Int32(p.ldSecond), Int64(p.strideSecond), &zero, c, Int32(p.ldc),
                           Int64(p.strideC), Int32(p.batch))
        } else {
            var (one, zero): (Double, Double) = (1, 0)
            status = dgemm(handle, opFirst, opSecond, Int32(p.m), Int32(p.n), Int32(p.k), &one, first, Int32(p.ldFirst),
                           Int64(p.strideFirst), second, Int32(p.ldSecond), Int64(p.strideSecond), &zero, c, Int32(p.ldc),
                           Int64(p.strideC), Int32(p.batch))
        }
        if status != 0 {
            throw CUDADriver.Failure(call: "cublas gemm (\(p.m)×\(p.k) · \(p.k)×\(p.n), \(p.batch))", status: status,
                                     message: "cuBLAS status \(status)")
        }
    }
}
