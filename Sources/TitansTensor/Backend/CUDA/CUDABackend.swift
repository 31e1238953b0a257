import Foundation

/// The NVIDIA GPU's kernels behind the seam (``ComputeBackend``): the ``CUDAKernelSource`` kernels compiled by NVRTC
/// for the GPU at hand, matrix products through cuBLAS.
///
/// Tensors live where they were last written (``DeviceMirror``): a kernel's output stays in GPU memory, host-made
/// tensors go up at their first use, and a read on the host copies back. Every kernel is held to the CPU's by
/// `titans selftest --device cuda`.
final class CUDABackend: ComputeBackend, @unchecked Sendable {
    let driver: CUDADriver
    let blas: CUBLAS
    /// Where tensors live on the GPU: the driver's memory through a cache of freed blocks.
    let memory: CUDAMemoryPool
    /// How the kernels were compiled: NVRTC's version and the target.
    let compiledWith: String
    private let functions: [String: OpaquePointer]
    /// One call at a time: the parts of a batch run ops from several threads, and one stream orders the work anyway.
    private let lock = NSLock()

    /// The driver, cuBLAS and the compiled kernels; throws with what is missing.
    init(driver: CUDADriver) throws {
        guard let nvrtc = NVRTC.shared else {
            throw CUDADriver.Failure(call: "dlopen(libnvrtc)", status: -1, message: "NVRTC not found: install CUDA's NVRTC or "
                                        + "the PyPI wheel nvidia-cuda-nvrtc and name its folder in TITANS_CUDA_PATH")
        }
        self.driver = driver
        memory = CUDAMemoryPool(driver: driver)
        blas = try CUBLAS.open()
        let target = NVRTC.Target.machine(driver.computeCapability)
        let image = try nvrtc.compile(CUDAKernelSource.source, name: "titans_kernels.cu", target: target)
        compiledWith = "NVRTC \(nvrtc.version.major).\(nvrtc.version.minor), \(target.option)"
        functions = try driver.functions(in: image, named: CUDAKernelSource.kernels.flatMap { ["\($0)_f32", "\($0)_f64"] })
    }

    // MARK: - Launching

    /// Runs kernel `name` (dtype suffix added) over `count` threads' worth of work with `arguments`.
    private func run(_ name: String, _ dtype: DType, count: Int, _ arguments: KernelArguments) throws {
        guard count > 0 else { return }
        let suffix = dtype == .float32 ? "_f32" : "_f64"
        guard let function = functions[name + suffix] else {
            throw CUDADriver.Failure(call: "launch", status: -1, message: "no kernel \(name + suffix) in the module")
        }
        let threads = 256, blocks = Swift.min((count + threads - 1) / threads, 65_535)  // the kernels stride over the rest
        try arguments.withPointers { try driver.launch(function, blocks: blocks, threads: threads, arguments: $0) }
    }

    /// Runs `body`; a GPU failure here has no way back to the op that asked, so it stops the program with the driver's words.
    private func attempt(_ what: String, _ body: () throws -> Void) {
        lock.lock()
        defer { lock.unlock() }
        do {
            try driver.makeCurrent()
            try body()
        } catch { fatalError("CUDABackend: \(what): \(error)") }
    }

    /// `body` with `inputs` current on the GPU and `out` ready to be written there (``DeviceMirror``); nothing is copied
    /// back: the output stays on the GPU until the host reads it.
    private func onDevice(_ out: Tensor, _ inputs: [Tensor], _ body: (DeviceOperand, [DeviceOperand]) throws -> Void) {
        attempt("running on the GPU") {
            let operands = try inputs.map { try DeviceOperand($0, in: memory, for: .read) }  // inputs first: out may alias one
            let whole = out.offset == 0 && out.count == out.storage.count && out.isContiguous
            try body(try DeviceOperand(out, in: memory, for: whole ? .overwrite : .update), operands)
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
                let product = plan.columnMajor(call)
                func run<T: TensorScalar>(_ type: T.Type) throws {
                    // cuBLAS's first operand is our B and its second our A (CUDAMatmulPlan.columnMajor).
                    try blas.gemm(type, product, first: operands[1].address + UInt64(call.offsetB * element),
                                  second: operands[0].address + UInt64(call.offsetA * element),
                                  c: c.address + UInt64(call.offsetC * element))
                }
                if out.dtype == .float32 { try run(Float.self) } else { try run(Double.self) }
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

    func indexSelect(_ x: Tensor, indices: [Int], outer: Int, length: Int, inner: Int, into out: Tensor) {
        lines("index_select", [x], indices: indices, count: out.count, into: out, sizes(outer, length, inner, indices.count))
    }

    func indexAdd(_ x: Tensor, indices: [Int], outer: Int, length: Int, inner: Int, into out: Tensor) {
        lines("index_add", [x], indices: indices, count: x.count, into: out, sizes(outer, length, inner, indices.count))
    }

    func take(_ x: Tensor, indices: [Int], outer: Int, length: Int, inner: Int, into out: Tensor) {
        lines("take_values", [x], indices: indices, count: out.count, into: out, sizes(outer, length, inner))
    }

    func put(_ x: Tensor, indices: [Int], outer: Int, length: Int, inner: Int, into out: Tensor) {
        lines("put_values", [x], indices: indices, count: x.count, into: out, sizes(outer, length, inner))
    }

    private func sizes(_ values: Int...) -> [Int64] { values.map { Int64($0) } }

    /// A kernel over contiguous `[outer, length, inner]` views with `count` threads' worth of work: its arguments are
    /// `leading`, then `out`, the `inputs` and, when given, the indices (as 64-bit integers on the GPU).
    private func lines(_ name: String, _ inputs: [Tensor], indices: [Int]? = nil, count: Int, into out: Tensor, _ leading: [Int64]) {
        onDevice(out, inputs) { device, operands in
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
