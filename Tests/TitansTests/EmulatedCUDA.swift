import Foundation
@testable import TitansTensor

/// The CUDA kernels' own source (``CUDAKernelSource``) compiled for the CPU by the toolchain's clang++, with a small
/// stand-in for CUDA's built-ins (block and thread indices, atomics, the math functions), each launch run one block and
/// thread at a time; products by a column-major reference of cuBLAS's. Behind ``CUDABackend`` it runs everything the
/// GPU backend does but the driver, NVRTC's machine code and cuBLAS itself, so the kernels' logic and the backend's
/// argument packing are held to the CPU's results on a machine without a GPU.
final class EmulatedCUDA: CUDAExecution, @unchecked Sendable {
    let memory: any DeviceMemory = SimulatedDevice()
    private let library: SharedLibrary
    private typealias Launch = @convention(c) (UnsafeMutablePointer<UnsafeMutableRawPointer?>?, Int32, Int32) -> Void

    /// The kernels compiled for this CPU; nil (with the reason) when no clang++ is found or the compilation fails.
    static func compile() -> (EmulatedCUDA?, String) {
        let swiftFolder = ProcessInfo.processInfo.environment["PATH"]?.split(separator: ":").map(String.init) ?? []
        guard let compiler = (swiftFolder.map { "\($0)/clang++" } + ["/usr/bin/clang++"])
            .first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else { return (nil, "no clang++ on the PATH") }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("titans-emulated-cuda-\(UUID().uuidString)")
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            let source = folder.appendingPathComponent("kernels.cpp"), output = folder.appendingPathComponent("kernels.so")
            try (shim + CUDAKernelSource.source + wrappers).write(to: source, atomically: true, encoding: .utf8)
            let process = Process()
            process.executableURL = URL(fileURLWithPath: compiler)
            process.arguments = ["-std=c++17", "-O1", "-ffp-contract=off", "-shared", "-fPIC", "-w", "-o", output.path, source.path]
            let errors = Pipe()
            process.standardError = errors
            try process.run()
            let log = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            guard process.terminationStatus == 0, let library = SharedLibrary(firstOf: [output.path]) else {
                return (nil, "clang++ failed: \(log)")
            }
            return (EmulatedCUDA(library: library), compiler)
        } catch {
            return (nil, "\(error)")
        }
    }

    private init(library: SharedLibrary) { self.library = library }

    func launch(_ name: String, blocks: Int, threads: Int, arguments: UnsafeMutablePointer<UnsafeMutableRawPointer?>?) throws {
        guard let launch = library.function("launch_\(name)", Launch.self) else {
            throw CUDADriver.Failure(call: "launch", status: -1, message: "no kernel \(name)")
        }
        launch(arguments, Int32(blocks), Int32(threads))
    }

    func gemm(_ dtype: DType, _ p: CUDAMatmulPlan.ColumnMajorProduct, first: UInt64, second: UInt64, c: UInt64) throws {
        switch dtype {
        case .float32: Self.product(Float.self, p, first, second, c)
        case .float64: Self.product(Double.self, p, first, second, c)
        }
    }

    func prepareThread() throws {}

    /// The product on host addresses (the simulated device's), by the column-major reference.
    static func product<T: TensorScalar>(_: T.Type, _ p: CUDAMatmulPlan.ColumnMajorProduct, _ first: UInt64, _ second: UInt64,
                                         _ c: UInt64) {
        guard let f = UnsafePointer<T>(bitPattern: UInt(first)), let s = UnsafePointer<T>(bitPattern: UInt(second)),
              let out = UnsafeMutablePointer<T>(bitPattern: UInt(c)) else { return }
        p.reference(first: f, second: s, c: out)
    }

    /// CUDA's built-ins for the CPU, with no headers: the grid's indices, the math functions by overload as CUDA
    /// declares them, the bit cast and an atomic add that is a plain one (one thread at a time).
    static let shim = #"""
    struct Dim3 { unsigned x, y, z; };
    static thread_local Dim3 blockIdx, threadIdx, blockDim, gridDim;
    #define __global__
    #define __device__
    #define __forceinline__ inline
    extern "C" {
    double exp(double); float expf(float); double log(double); float logf(float); double sqrt(double); float sqrtf(float);
    double fabs(double); float fabsf(float); double tanh(double); float tanhf(float); double erf(double); float erff(float);
    double log1p(double); float log1pf(float); double pow(double, double); float powf(float, float);
    double trunc(double); float truncf(float);
    }
    inline float exp(float x) { return expf(x); }
    inline float log(float x) { return logf(x); }
    inline float sqrt(float x) { return sqrtf(x); }
    inline float fabs(float x) { return fabsf(x); }
    inline float tanh(float x) { return tanhf(x); }
    inline float erf(float x) { return erff(x); }
    inline float log1p(float x) { return log1pf(x); }
    inline float pow(float x, float y) { return powf(x, y); }
    inline float trunc(float x) { return truncf(x); }
    template <typename T> inline bool isinf(T x) { return x == T(__builtin_inf()) || x == -T(__builtin_inf()); }
    inline double __longlong_as_double(long long v) { double d; __builtin_memcpy(&d, &v, sizeof d); return d; }
    template <typename T> inline T atomicAdd(T* p, T v) { T old = *p; *p = old + v; return old; }

    """#

    /// `launch_<kernel>(arguments, blocks, threads)` for every kernel: its parameters read from the argument pointers
    /// as `cuLaunchKernel` passes them, the kernel called once per block and thread.
    static let wrappers = #"""

    #define ARG(T, i) (*(T*)(args[i]))
    #define GRID(call)                                                                                          \
        for (unsigned b = 0; b < (unsigned)blocks; ++b)                                                         \
            for (unsigned t = 0; t < (unsigned)threads; ++t) {                                                  \
                blockIdx = {b, 0, 0}; threadIdx = {t, 0, 0};                                                    \
                blockDim = {(unsigned)threads, 1, 1}; gridDim = {(unsigned)blocks, 1, 1};                       \
                call;                                                                                           \
            }
    #define WRAPPERS(T, S)                                                                                      \
    extern "C" void launch_unary_##S(void** args, int blocks, int threads) {                                    \
        GRID(unary_##S(ARG(Layout, 0), ARG(i64, 1), ARG(i64, 2), ARG(double, 3), ARG(double, 4), ARG(T*, 5),   \
                       ARG(const T*, 6))) }                                                                     \
    extern "C" void launch_binary_##S(void** args, int blocks, int threads) {                                   \
        GRID(binary_##S(ARG(Layout, 0), ARG(i64, 1), ARG(i64, 2), ARG(T*, 3), ARG(const T*, 4), ARG(const T*, 5))) } \
    extern "C" void launch_select_values_##S(void** args, int blocks, int threads) {                            \
        GRID(select_values_##S(ARG(Layout, 0), ARG(i64, 1), ARG(T*, 2), ARG(const T*, 3), ARG(const T*, 4),     \
                               ARG(const T*, 5))) }                                                             \
    extern "C" void launch_multiply_add_##S(void** args, int blocks, int threads) {                             \
        GRID(multiply_add_##S(ARG(Layout, 0), ARG(i64, 1), ARG(T*, 2), ARG(const T*, 3), ARG(const T*, 4),      \
                              ARG(const T*, 5))) }                                                              \
    extern "C" void launch_reduce_##S(void** args, int blocks, int threads) {                                   \
        GRID(reduce_##S(ARG(i64, 0), ARG(i64, 1), ARG(i64, 2), ARG(i64, 3), ARG(T*, 4), ARG(const T*, 5))) }     \
    extern "C" void launch_argmax_##S(void** args, int blocks, int threads) {                                   \
        GRID(argmax_##S(ARG(i64, 0), ARG(i64, 1), ARG(i64, 2), ARG(i64*, 3), ARG(const T*, 4))) }                \
    extern "C" void launch_cumulative_sum_##S(void** args, int blocks, int threads) {                           \
        GRID(cumulative_sum_##S(ARG(i64, 0), ARG(i64, 1), ARG(i64, 2), ARG(i64, 3), ARG(T*, 4), ARG(const T*, 5))) } \
    extern "C" void launch_linear_scan_##S(void** args, int blocks, int threads) {                              \
        GRID(linear_scan_##S(ARG(i64, 0), ARG(i64, 1), ARG(i64, 2), ARG(i64, 3), ARG(T*, 4), ARG(const T*, 5),   \
                             ARG(const T*, 6), ARG(const T*, 7))) }                                             \
    extern "C" void launch_softmax_##S(void** args, int blocks, int threads) {                                  \
        GRID(softmax_##S(ARG(i64, 0), ARG(i64, 1), ARG(i64, 2), ARG(i64, 3), ARG(T*, 4), ARG(const T*, 5))) }    \
    extern "C" void launch_normalize_rows_##S(void** args, int blocks, int threads) {                           \
        GRID(normalize_rows_##S(ARG(i64, 0), ARG(i64, 1), ARG(i64, 2), ARG(i64, 3), ARG(i64, 4), ARG(T*, 5),     \
                                ARG(const T*, 6), ARG(const T*, 7))) }                                          \
    extern "C" void launch_rotate_halves_##S(void** args, int blocks, int threads) {                            \
        GRID(rotate_halves_##S(ARG(i64, 0), ARG(i64, 1), ARG(i64, 2), ARG(T*, 3), ARG(const T*, 4),              \
                               ARG(const T*, 5), ARG(const T*, 6))) }                                           \
    extern "C" void launch_index_select_##S(void** args, int blocks, int threads) {                             \
        GRID(index_select_##S(ARG(i64, 0), ARG(i64, 1), ARG(i64, 2), ARG(i64, 3), ARG(T*, 4), ARG(const T*, 5),  \
                              ARG(const i64*, 6))) }                                                            \
    extern "C" void launch_index_add_##S(void** args, int blocks, int threads) {                                \
        GRID(index_add_##S(ARG(i64, 0), ARG(i64, 1), ARG(i64, 2), ARG(i64, 3), ARG(T*, 4), ARG(const T*, 5),     \
                           ARG(const i64*, 6))) }                                                               \
    extern "C" void launch_take_values_##S(void** args, int blocks, int threads) {                              \
        GRID(take_values_##S(ARG(i64, 0), ARG(i64, 1), ARG(i64, 2), ARG(T*, 3), ARG(const T*, 4),               \
                             ARG(const i64*, 5))) }                                                             \
    extern "C" void launch_put_values_##S(void** args, int blocks, int threads) {                               \
        GRID(put_values_##S(ARG(i64, 0), ARG(i64, 1), ARG(i64, 2), ARG(T*, 3), ARG(const T*, 4),                \
                            ARG(const i64*, 5))) }

    WRAPPERS(float, f32)
    WRAPPERS(double, f64)
    """#
}
