import Foundation

/// What ``CUDABackend`` runs its work on: device memory, the kernels of ``CUDAKernelSource`` by name, and cuBLAS's
/// products. ``CUDAGPU`` is the GPU; the tests put the same kernel source, compiled for the CPU, behind it.
protocol CUDAExecution: AnyObject, Sendable {
    var memory: any DeviceMemory { get }
    /// Runs kernel `name` (with its dtype suffix) over `blocks` × `threads` with `arguments` (one pointer per parameter).
    func launch(_ name: String, blocks: Int, threads: Int, arguments: UnsafeMutablePointer<UnsafeMutableRawPointer?>?) throws
    /// One column-major strided-batched product of `dtype` (``CUDAMatmulPlan/ColumnMajorProduct``).
    func gemm(_ dtype: DType, _ product: CUDAMatmulPlan.ColumnMajorProduct, first: UInt64, second: UInt64, c: UInt64) throws
    /// Makes the device usable from the calling thread.
    func prepareThread() throws
}

/// The GPU: the driver's first device, the kernels compiled by NVRTC for it, cuBLAS, and a cache of its memory.
final class CUDAGPU: CUDAExecution, @unchecked Sendable {
    let driver: CUDADriver
    let blas: CUBLAS
    let pool: CUDAMemoryPool
    var memory: any DeviceMemory { pool }
    /// How the kernels were compiled: NVRTC's version and the target.
    let compiledWith: String
    private let functions: [String: OpaquePointer]

    /// The driver, cuBLAS and the compiled kernels; throws with what is missing.
    init(driver: CUDADriver) throws {
        guard let nvrtc = NVRTC.shared else {
            throw CUDADriver.Failure(call: "dlopen(libnvrtc)", status: -1, message: "NVRTC not found: install CUDA's NVRTC or "
                                        + "the PyPI wheel nvidia-cuda-nvrtc and name its folder in TITANS_CUDA_PATH")
        }
        self.driver = driver
        pool = CUDAMemoryPool(driver: driver)
        blas = try CUBLAS.open()
        let target = NVRTC.Target.machine(driver.computeCapability)
        let image = try nvrtc.compile(CUDAKernelSource.source, name: "titans_kernels.cu", target: target)
        compiledWith = "NVRTC \(nvrtc.version.major).\(nvrtc.version.minor), \(target.option)"
        functions = try driver.functions(in: image, named: CUDAKernelSource.kernels.flatMap { ["\($0)_f32", "\($0)_f64"] })
    }

    func launch(_ name: String, blocks: Int, threads: Int, arguments: UnsafeMutablePointer<UnsafeMutableRawPointer?>?) throws {
        guard let function = functions[name] else {
            throw CUDADriver.Failure(call: "launch", status: -1, message: "no kernel \(name) in the module")
        }
        try driver.launch(function, blocks: blocks, threads: threads, arguments: arguments)
    }

    func gemm(_ dtype: DType, _ product: CUDAMatmulPlan.ColumnMajorProduct, first: UInt64, second: UInt64, c: UInt64) throws {
        switch dtype {
        case .float32: try blas.gemm(Float.self, product, first: first, second: second, c: c)
        case .float64: try blas.gemm(Double.self, product, first: first, second: second, c: c)
        }
    }

    func prepareThread() throws { try driver.makeCurrent() }
}

/// The kernels behind the seam (``ComputeBackend``) on a ``CUDAExecution``: the ``CUDAKernelSource`` kernels, matrix
/// products through cuBLAS (``CUDAMatmulPlan``).
///
/// Tensors live where they were last written (``DeviceMirror``): a kernel's output stays in device memory, host-made
/// tensors go up at their first use, and a read on the host copies back. Every kernel is held to the CPU's by
/// `titans selftest --device cuda`.
final class CUDABackend: ComputeBackend, @unchecked Sendable {
    let execution: any CUDAExecution
    private var memory: any DeviceMemory { execution.memory }
    /// One call at a time: the parts of a batch run ops from several threads, and one stream orders the work anyway.
    private let lock = NSLock()

    init(_ execution: any CUDAExecution) { self.execution = execution }

    // MARK: - Launching

    /// Runs kernel `name` (dtype suffix added) over `count` threads' worth of work with `arguments`.
    private func run(_ name: String, _ dtype: DType, count: Int, _ arguments: KernelArguments) throws {
        guard count > 0 else { return }
        let threads = 256, blocks = Swift.min((count + threads - 1) / threads, 65_535)  // the kernels stride over the rest
        let kernel = name + (dtype == .float32 ? "_f32" : "_f64")
        try arguments.withPointers { try execution.launch(kernel, blocks: blocks, threads: threads, arguments: $0) }
    }

    /// Runs `body`; a GPU failure here has no way back to the op that asked, so it stops the program with the driver's words.
    private func attempt(_ what: String, _ body: () throws -> Void) {
        lock.lock()
        defer { lock.unlock() }
        do {
            try execution.prepareThread()
            try body()
        } catch { fatalError("CUDABackend: \(what): \(error)") }
    }

    /// `body` with `inputs` current on the GPU and `out` ready to be written there (``DeviceMirror``): overwritten when
    /// the kernel writes its whole storage, else (a view, or a kernel that `adds` into it) brought up to date first.
    /// Nothing is copied back: the output stays on the GPU until the host reads it.
    private func onDevice(_ out: Tensor, _ inputs: [Tensor], adds: Bool = false,
                          _ body: (DeviceOperand, [DeviceOperand]) throws -> Void) {
        attempt("running on the GPU") {
            let operands = try inputs.map { try DeviceOperand($0, in: memory, for: .read) }  // inputs first: out may alias one
            try body(try DeviceOperand(out, in: memory, for: .output(out, adds: adds)), operands)
        }
    }

    /// An elementwise kernel over `out` and `inputs` broadcast to its shape.
    private func elementwise(_ name: String, _ out: Tensor, _ inputs: [Tensor], _ scalars: (KernelArguments) -> Void) {
        onDevice(out, inputs) { device, operands in
            let layout = CUDALayout(shape: out.shape, operands: ([device] + operands).map { ($0.tensor, $0.tensor.offset) })
            let arguments = KernelArguments()
            arguments.add(layout.words)
            arguments.add(Int64(out.count))
            scalars(arguments)
            ([device] + operands).forEach { arguments.add($0.base) }
            try run(name, out.dtype, count: out.count, arguments)
        }
    }

    // MARK: - ComputeBackend

    func unary(_ f: UnaryFunction, _ x: Tensor, into out: Tensor) {
        let code = CUDAKernelSource.code(f)
        elementwise("unary", out, [x]) { $0.add(code.op); $0.add(code.p0); $0.add(code.p1) }
    }

    func binary(_ f: BinaryFunction, _ a: Tensor, _ b: Tensor, into out: Tensor) {
        elementwise("binary", out, [a, b]) { $0.add(CUDAKernelSource.code(f)) }
    }

    func select(_ mask: Tensor, _ a: Tensor, _ b: Tensor, into out: Tensor) {
        elementwise("select_values", out, [mask, a, b]) { _ in }
    }

    func multiplyAdd(_ a: Tensor, _ scale: Tensor, _ addend: Tensor, into out: Tensor) {
        elementwise("multiply_add", out, [a, scale, addend]) { _ in }
    }

    func copy(_ source: Tensor, into out: Tensor) {
        elementwise("unary", out, [source]) { $0.add(CUDAKernelSource.identity); $0.add(0.0); $0.add(0.0) }
    }

    func matmul(_ a: Tensor, _ b: Tensor, into out: Tensor) {
        guard let plan = CUDAMatmulPlan(a, b, out: out) else {
            if out.count > 0 { copy(Tensor.zeros([], dtype: out.dtype), into: out) }  // k = 0: a sum of nothing
            return
        }
        onDevice(out, [plan.a, plan.b]) { c, operands in
            let element = out.dtype.byteCount
            for call in plan.calls {
                // cuBLAS's first operand is our B and its second our A (CUDAMatmulPlan.columnMajor).
                try execution.gemm(out.dtype, plan.columnMajor(call), first: operands[1].address + UInt64(call.offsetB * element),
                                   second: operands[0].address + UInt64(call.offsetA * element),
                                   c: c.address + UInt64(call.offsetC * element))
            }
        }
    }

    func reduce(_ reduction: Reduction, _ x: Tensor, outer: Int, length: Int, inner: Int, into out: Tensor) {
        lines("reduce", [x], count: outer * inner, into: out, [CUDAKernelSource.code(reduction)] + sizes(outer, length, inner))
    }

    func argmax(_ x: Tensor, outer: Int, length: Int, inner: Int) -> [Int] {
        var result = [Int64](repeating: 0, count: outer * inner)
        guard !result.isEmpty else { return [] }
        attempt("argmax") {
            let source = try DeviceOperand(x, in: memory, for: .read)
            let indices = try memory.allocate(bytes: result.count * 8)
            defer { memory.release(indices, bytes: result.count * 8) }
            let arguments = KernelArguments()
            sizes(outer, length, inner).forEach { arguments.add($0) }
            arguments.add(indices)
            arguments.add(source.address)
            try run("argmax", x.dtype, count: outer * inner, arguments)
            try result.withUnsafeMutableBytes { bytes in
                if let base = bytes.baseAddress { try memory.download(from: indices, to: base, bytes: bytes.count) }
            }
        }
        return result.map { Int($0) }
    }

    func cumulativeSum(_ x: Tensor, outer: Int, length: Int, inner: Int, reverse: Bool, into out: Tensor) {
        lines("cumulative_sum", [x], count: outer * inner, into: out, sizes(outer, length, inner, reverse ? 1 : 0))
    }

    func linearScan(_ a: Tensor, _ b: Tensor, initial: Tensor, outer: Int, length: Int, inner: Int, reverse: Bool,
                    into out: Tensor) {
        lines("linear_scan", [a, b, initial], count: outer * inner, into: out, sizes(outer, length, inner, reverse ? 1 : 0))
    }

    func softmax(_ x: Tensor, outer: Int, length: Int, inner: Int, log: Bool, into out: Tensor) {
        lines("softmax", [x], count: outer * inner, into: out, sizes(outer, length, inner, log ? 1 : 0))
    }

    func normalizeRows(_ x: Tensor, weight: Tensor?, divisor: Double, epsilon: Double, rows: Int, width: Int, into out: Tensor) {
        // Without a weight the kernel is handed `x` in its place and told not to read it.
        lines("normalize_rows", [x, weight ?? x], count: rows, into: out,
              sizes(rows, width, weight == nil ? 0 : 1) + [divisor, epsilon].map { Int64(bitPattern: $0.bitPattern) })
    }

    func rotateHalves(_ x: Tensor, cos: Tensor, sin: Tensor, rows: Int, positions: Int, width: Int, into out: Tensor) {
        lines("rotate_halves", [x, cos, sin], count: rows, into: out, sizes(rows, positions, width))
    }

    func indexSelect(_ x: Tensor, indices: [Int], outer: Int, length: Int, inner: Int, into out: Tensor) {
        lines("index_select", [x], indices: indices, count: out.count, into: out, sizes(outer, length, inner, indices.count))
    }

    func indexAdd(_ x: Tensor, indices: [Int], outer: Int, length: Int, inner: Int, into out: Tensor) {
        lines("index_add", [x], indices: indices, count: x.count, into: out, adds: true, sizes(outer, length, inner, indices.count))
    }

    func take(_ x: Tensor, indices: [Int], outer: Int, length: Int, inner: Int, into out: Tensor) {
        lines("take_values", [x], indices: indices, count: out.count, into: out, sizes(outer, length, inner))
    }

    func put(_ x: Tensor, indices: [Int], outer: Int, length: Int, inner: Int, into out: Tensor) {
        lines("put_values", [x], indices: indices, count: x.count, into: out, adds: true, sizes(outer, length, inner))
    }

    private func sizes(_ values: Int...) -> [Int64] { values.map { Int64($0) } }

    /// A kernel over contiguous `[outer, length, inner]` views with `count` threads' worth of work: its arguments are
    /// `leading`, then `out`, the `inputs` and, when given, the indices (as 64-bit integers on the GPU). A kernel that
    /// `adds` into `out` (scatter-adds into zeros) finds it as the host left it.
    private func lines(_ name: String, _ inputs: [Tensor], indices: [Int]? = nil, count: Int, into out: Tensor, adds: Bool = false,
                       _ leading: [Int64]) {
        onDevice(out, inputs, adds: adds) { device, operands in
            let arguments = KernelArguments()
            leading.forEach { arguments.add($0) }
            ([device] + operands).forEach { arguments.add($0.address) }
            var indexBuffer: (address: UInt64, bytes: Int)?
            defer { indexBuffer.map { memory.release($0.address, bytes: $0.bytes) } }
            if let indices {
                let wide = indices.map { Int64($0) }
                let buffer = (address: try memory.allocate(bytes: wide.count * 8), bytes: wide.count * 8)
                indexBuffer = buffer
                try wide.withUnsafeBytes { bytes in
                    if let base = bytes.baseAddress { try memory.upload(from: base, to: buffer.address, bytes: bytes.count) }
                }
                arguments.add(buffer.address)
            }
            try run(name, out.dtype, count: count, arguments)
        }
    }
}
