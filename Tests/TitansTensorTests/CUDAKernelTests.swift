import Foundation
import Testing
@testable import TitansTensor

/// The CUDA backend's parts that run without a GPU: every kernel compiles (when NVRTC is found: `scripts/test` fetches
/// it), a compile error comes back with the compiler's words, and the elementwise kernels' walk (``CUDALayout``),
/// interpreted here as the kernels' `locate` reads it, reaches the elements the CPU's kernels do.
struct CUDAKernelTests {
    static let names = CUDAKernelSource.kernels.flatMap { ["\($0)_f32", "\($0)_f64"] }

    @Test func everyKernelCompilesToPTXAndMachineCode() throws {
        guard let nvrtc = NVRTC.shared else {
            print("CUDAKernelTests: skipped, NVRTC not found (bash scripts/fetch-nvrtc, then TITANS_CUDA_PATH=.build/nvrtc)")
            return
        }
        for arch in [75, 90] {  // CUDA 13's oldest and the H100's
            let ptx = String(decoding: try nvrtc.compile(CUDAKernelSource.source, name: "titans_kernels.cu", target: .virtual(arch)),
                             as: UTF8.self)
            for name in Self.names { #expect(ptx.contains(".entry \(name)("), "compute_\(arch): no entry \(name)") }
        }
        let cubin = try nvrtc.compile(CUDAKernelSource.source, name: "titans_kernels.cu", target: .machine(90))
        #expect(Array(cubin.prefix(4)) == [0x7F, 0x45, 0x4C, 0x46], "sm_90 machine code is an ELF image")
    }

    @Test func aKernelThatDoesNotCompileSaysWhy() throws {
        guard let nvrtc = NVRTC.shared else { return }
        let broken = #"extern "C" __global__ void broken(float* x) { x[0] = not_declared_here; }"#
        do {
            _ = try nvrtc.compile(broken, name: "broken.cu", target: .virtual(90))
            Issue.record("a kernel using an undeclared name compiled")
        } catch let error as NVRTC.CompileError {
            #expect(error.log.contains("not_declared_here"))
        }
    }

    /// The element a kernel's thread `i` reaches in each operand, read from the layout's words as the CUDA `locate` does.
    static func locate(_ words: [Int64], _ i: Int, operands: Int) -> [Int] {
        let maxDims = CUDALayout.maxDimensions, maxOperands = CUDALayout.maxOperands
        var at = (0..<operands).map { Int(words[1 + maxDims * (1 + maxOperands) + $0]) }
        var rest = i
        for d in stride(from: Int(words[0]) - 1, through: 0, by: -1) {
            let size = Int(words[1 + d]), index = rest % size
            rest /= size
            for o in 0..<operands { at[o] += index * Int(words[1 + maxDims * (1 + o) + d]) }
        }
        return at
    }

    @Test func theLayoutWalksBroadcastAndStridedOperandsAsTheCPUDoes() {
        var rng = RandomGenerator(seed: 3)
        let cases: [(Tensor, Tensor)] = [
            (Tensor.randomNormal([2, 3, 4], generator: &rng), Tensor.randomNormal([4], generator: &rng)),  // broadcast row
            (Tensor.randomNormal([4, 3], generator: &rng).transposed(), Tensor.randomNormal([3, 1], generator: &rng)),  // strided, column
            (Tensor.randomNormal([5, 6, 2], generator: &rng).slice(axis: 1, start: 1, end: 4), Tensor.randomNormal([5, 1, 2], generator: &rng)),
            (Tensor.randomNormal([2, 1, 3, 1, 2, 1, 2, 3, 2], generator: &rng).squeeze(1), Tensor.scalar(2)),  // size-1 axes
        ]
        for (a, b) in cases {
            let expected = a + b
            let out = Tensor.zeros(expected.shape)
            let layout = CUDALayout(shape: out.shape, operands: [(out, out.offset), (a, a.offset), (b, b.offset)])
            let (pa, pb, po) = (a.storage.pointer(Float.self), b.storage.pointer(Float.self), out.storage.pointer(Float.self))
            for i in 0..<out.count {
                let at = Self.locate(layout.words, i, operands: 3)
                po[at[0]] = pa[at[1]] + pb[at[2]]
            }
            #expect(out.toArray() == expected.toArray(), "\(a.shape) + \(b.shape)")
        }
    }

    @Test func foldedBatchesAreOneStridedCallOnlyWhenTheyFold() {
        #expect(CUDALayout.foldedBatchStrides([2, 3], [3 * 16, 16], [0, 0]) ?? (-1, -1) == (16, 0))
        #expect(CUDALayout.foldedBatchStrides([2, 3], [16, 0], [0, 16]) == nil)  // a and b broadcast along different axes
        #expect(CUDALayout.foldedBatchStrides([1, 1], [5, 5], [5, 5]) ?? (-1, -1) == (0, 0))
        #expect(CUDALayout.batchOffsets(4, [2, 3], [100, 10], [0, 7]) == (110, 7))
    }
}

/// The matrix products ``CUDABackend`` asks of cuBLAS, run through a column-major reference of cuBLAS's strided-batched
/// product (its documented semantics, `ColumnMajorProduct.reference`) on the CPU, against the CPU's matmul: the layouts, transposes,
/// leading dimensions and batch strides of every call are right before a GPU runs them.
struct CUDAMatmulPlanTests {
    @Test func everyLayoutOfTheProductsComputesTheCPUsMatmul() {
        var rng = RandomGenerator(seed: 9)
        func normal(_ shape: [Int]) -> Tensor { Tensor.randomNormal(shape, dtype: .float64, generator: &rng) }
        let cases: [(String, Tensor, Tensor)] = [
            ("plain", normal([3, 4]), normal([4, 5])),
            ("batched, matrix on the right", normal([2, 3, 4, 5]), normal([5, 6])),
            ("broadcast batches", normal([2, 1, 4, 5]), normal([3, 5, 2])),
            ("both transposed", normal([2, 5, 4]).transposed(), normal([2, 6, 5]).transposed()),
            ("one row per head", normal([4, 1, 64]), normal([4, 64, 64])),
            ("strided rows", normal([3, 8, 5]).slice(axis: 1, start: 0, end: 8, step: 2), normal([5, 3])),
            ("permuted heads", normal([2, 6, 3, 4]).permute([0, 2, 1, 3]), normal([2, 3, 5, 4]).transposed()),
            ("expanded operand", normal([1, 4, 5]).expand(to: [3, 4, 5]), normal([3, 5, 2])),
            ("a column vector", normal([7, 3]), normal([3, 1])),
        ]
        for (name, a, b) in cases {
            let expected = a.matmul(b)
            let out = Tensor.zeros(expected.shape, dtype: .float64)
            guard let plan = CUDAMatmulPlan(a, b, out: out) else { Issue.record("\(name): no plan"); continue }
            for call in plan.calls {
                let first = plan.b.storage.pointer(Double.self) + plan.b.offset + call.offsetB
                let second = plan.a.storage.pointer(Double.self) + plan.a.offset + call.offsetA
                plan.columnMajor(call).reference(first: first, second: second, c: out.storage.pointer(Double.self) + call.offsetC)
            }
            #expect(BackendSelfTest.worstError(out.toArray(), expected.toArray()) < 1e-12, "\(name)")
        }
        #expect(CUDAMatmulPlan(normal([2, 0]), normal([0, 3]), out: Tensor.zeros([2, 3], dtype: .float64)) == nil)
    }
}
