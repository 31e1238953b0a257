/// The op-level half of the self-test: each op family forward, its first-order gradient and, where the CPU tests take
/// one (the ops inside the memory's inner loop), its second-order gradient, computed on whichever device is selected.
/// `titans selftest` runs each case on the CPU and on the GPU and compares them (``ComputeDevice/onBoth(_:_:)``).
extension BackendSelfTest {
    /// One op family on fixed inputs: `run` computes its outputs and gradients on the selected device.
    public struct OperationCase {
        public let name: String
        public let dtype: DType
        public let run: () -> [Double]

        public init(name: String, dtype: DType, run: @escaping () -> [Double]) {
            self.name = name
            self.dtype = dtype
            self.run = run
        }
    }

    /// `f`'s value at `inputs`, the gradient of ⟨f, v⟩ and, when `secondOrder`, the gradient of ⟨∇⟨f, v⟩, w⟩ (v, w
    /// fixed random directions), all as one list of numbers.
    public static func derivatives(_ inputs: [Tensor], secondOrder: Bool, seed: UInt64 = 5,
                                   _ f: ([Tensor]) -> Tensor) -> [Double] {
        let leaves = inputs.map { $0.detach().requiringGrad() }
        var rng = RandomGenerator(seed: seed)
        let y = f(leaves)
        let v = Tensor.randomNormal(y.shape, dtype: y.dtype, generator: &rng)
        let first = Tensor.gradients(of: (y * v).sum(), withRespectTo: leaves, createGraph: secondOrder)
        var numbers = y.toArray() + first.flatMap { $0.toArray() }
        if secondOrder {
            let projection = zip(first, leaves).map { g, x in (g * Tensor.randomNormal(x.shape, dtype: x.dtype, generator: &rng)).sum() }
            let total = projection.dropFirst().reduce(projection[0], +)
            numbers += Tensor.gradients(of: total, withRespectTo: leaves).flatMap { $0.toArray() }
        }
        return numbers
    }

    /// `body`'s numbers computed on the CPU and on `device`, compared at `dtype`'s tolerance (or `tolerance`).
    public static func compare(_ name: String, dtype: DType, tolerance: Double? = nil, on device: ComputeDevice,
                               _ body: () -> [Double]) throws -> BackendCheck {
        let (expected, actual) = try ComputeDevice.onBoth(device, body)
        return BackendCheck(name: name, dtype: dtype, worstError: worstError(actual, expected),
                            tolerance: tolerance ?? Self.tolerance(dtype))
    }

    /// How far an op case may be from the CPU's, relative to max(1, |value|): each number has passed through several
    /// ops (and their derivatives), each rounding on its own.
    public static func operationTolerance(_ dtype: DType) -> Double { dtype == .float32 ? 1e-4 : 1e-9 }

    /// Every op case of both dtypes on the CPU and on `device`, at ``operationTolerance(_:)``.
    public static func operations(on device: ComputeDevice) throws -> [BackendCheck] {
        try DType.allCases.flatMap { dtype in
            try operationCases(dtype).map { try compare($0.name, dtype: dtype, tolerance: operationTolerance(dtype), on: device, $0.run) }
        }
    }

    /// Every kernel of `device`'s backend against the CPU's.
    public static func kernels(on device: ComputeDevice) throws -> [BackendCheck] {
        kernels(try ComputeDevice.backend(for: device))
    }

    /// The cases for `dtype`; each draws its inputs from its own seed, so every run of it computes the same numbers.
    public static func operationCases(_ dtype: DType) -> [OperationCase] {
        typealias Body = (inout RandomGenerator) -> [Double]
        func normal(_ shape: [Int], _ rng: inout RandomGenerator) -> Tensor { Tensor.randomNormal(shape, dtype: dtype, generator: &rng) }
        func positive(_ shape: [Int], _ rng: inout RandomGenerator) -> Tensor { normal(shape, &rng).abs() + 0.2 }
        var cases: [OperationCase] = []
        func add(_ name: String, _ body: @escaping Body) {
            let seed = UInt64(cases.count + 1)
            cases.append(OperationCase(name: name, dtype: dtype) {
                var rng = RandomGenerator(seed: seed)
                return body(&rng)
            })
        }
        let unaries: [(String, Bool, (Tensor) -> Tensor)] = [
            ("sigmoid", true, { $0.sigmoid() }), ("silu", true, { $0.silu() }), ("tanh", true, { $0.tanh() }),
            ("gelu", true, { $0.gelu() }), ("softplus", true, { $0.softplus() }), ("exp", true, { $0.exp() }),
            ("erf", true, { $0.erf() }), ("pow 3", true, { $0.pow(3) }), ("relu", false, { $0.relu() }),
            ("clamp", false, { $0.clamp(min: -0.5, max: 0.5) }), ("abs", false, { $0.abs() }),
        ]
        for (name, second, f) in unaries {
            add(name) { rng in derivatives([normal([4, 9], &rng)], secondOrder: second) { f($0[0]) } }
        }
        let positives: [(String, (Tensor) -> Tensor)] = [("log", { $0.log() }), ("sqrt", { $0.sqrt() }), ("rsqrt", { $0.rsqrt() })]
        for (name, f) in positives {
            add(name) { rng in derivatives([positive([4, 9], &rng)], secondOrder: true) { f($0[0]) } }
        }
        add("add, multiply, divide, broadcast") { rng in
            derivatives([normal([3, 1, 5], &rng), positive([4, 1], &rng)], secondOrder: true) { x in x[0] * x[1] + x[0] / x[1] - x[1] }
        }
        add("pow, maximum, minimum") { rng in
            derivatives([positive([3, 5], &rng), normal([5], &rng)], secondOrder: false) { x in
                x[0].pow(x[1]) + x[0].maximum(x[1]) - x[0].minimum(x[1] * 2)
            }
        }
        add("where, comparisons") { rng in
            derivatives([normal([6, 4], &rng), normal([4], &rng)], secondOrder: true) { x in
                Tensor.where(x[0].greater(than: x[1]), x[0] * x[1], x[1] - x[0])
            }
        }
        add("multiplyAdd") { rng in
            derivatives([normal([2, 3, 4], &rng), normal([2, 1, 4], &rng), normal([3, 4], &rng)], secondOrder: true) { x in
                x[0].multiplyAdd(x[1], x[2])
            }
        }
        add("matmul, batched and broadcast") { rng in
            derivatives([normal([2, 3, 4, 5], &rng), normal([3, 5, 6], &rng)], secondOrder: true) { $0[0].matmul($0[1]) }
        }
        add("matmul, transposed operand") { rng in
            derivatives([normal([4, 8, 16], &rng), normal([4, 8, 16], &rng)], secondOrder: true) { $0[0].matmul($0[1].transposed()).tanh() }
        }
        add("sum, mean, logSumExp") { rng in
            derivatives([normal([3, 4, 5], &rng)], secondOrder: true) { x in
                x[0].sum(axis: 1) + x[0].mean(axes: [0, 1]) + x[0].logSumExp(axis: 1)
            }
        }
        add("max") { rng in derivatives([normal([3, 4, 5], &rng)], secondOrder: false) { $0[0].max(axis: 2) } }
        add("softmax, logSoftmax") { rng in
            derivatives([normal([2, 3, 7], &rng)], secondOrder: true) { x in x[0].softmax(axis: -1) + x[0].logSoftmax(axis: 1).sum(axis: 1, keepDims: true) }
        }
        add("cumulativeSum") { rng in
            derivatives([normal([2, 6, 3], &rng)], secondOrder: true) { $0[0].cumulativeSum(axis: 1) + $0[0].cumulativeSum(axis: 1, reverse: true) }
        }
        add("linearScan") { rng in
            derivatives([positive([2, 7, 3], &rng).clamp(max: 1), normal([2, 7, 3], &rng), normal([2, 1, 3], &rng)], secondOrder: true) { x in
                Tensor.linearScan(x[0], x[1], axis: 1, initial: x[2])
            }
        }
        add("indexSelect, indexAdd") { rng in
            derivatives([normal([9, 4], &rng)], secondOrder: true) { x in
                let picked = x[0].indexSelect(axis: 0, indices: IndexTensor(shape: [5], [8, 0, 3, 3, 5]))
                return picked.indexAdd(axis: 0, indices: IndexTensor(shape: [5], [1, 1, 2, 0, 4]), length: 6).tanh().squared()
            }
        }
        add("take, put, crossEntropy") { rng in
            derivatives([normal([2, 3, 7], &rng)], secondOrder: true) { x in
                x[0].crossEntropy(targets: IndexTensor(shape: [2, 3], [0, 6, 3, 3, 1, 5]))
            }
        }
        add("rotatedHalves") { rng in
            let (cosines, sines) = (normal([3, 2], &rng), normal([3, 2], &rng))
            return derivatives([normal([2, 3, 4], &rng)], secondOrder: true) { x in (x[0].rotatedHalves(cos: cosines, sin: sines) * x[0]).tanh() }
        }
        add("rmsNormalized, layerNormalized, l2Normalized") { rng in
            derivatives([normal([3, 8], &rng), positive([8], &rng)], secondOrder: true) { x in
                x[0].rmsNormalized(weight: x[1]) + x[0].layerNormalized(weight: x[1]) + x[0].l2Normalized()
            }
        }
        add("depthwiseCausalConvolution") { rng in
            derivatives([normal([2, 9, 4], &rng), normal([4, 3], &rng), normal([4], &rng)], secondOrder: true) { x in
                x[0].depthwiseCausalConvolution(weight: x[1], bias: x[2])
            }
        }
        add("concatenate, slice, permute, pad, expand") { rng in
            derivatives([normal([2, 3, 4], &rng), normal([2, 1, 4], &rng)], secondOrder: true) { x in
                let joined = Tensor.concatenate([x[0], x[1].expand(to: [2, 2, 4])], axis: 1)
                return joined.permute([2, 0, 1]).slice(axis: 2, start: 1, end: 5, step: 2).padded(axis: 0, before: 1, after: 2).tanh()
            }
        }
        return cases
    }
}

extension BackendSelfTest {
    /// Compiles every CUDA kernel to PTX for compute_75 (CUDA 13's oldest GPUs) and compute_90 (H100, H200) with NVRTC,
    /// which needs no GPU: a line saying what compiled, or nil when NVRTC is not found. Throws the compiler's log.
    public static func compileCUDAKernels() throws -> String? {
        guard let nvrtc = NVRTC.shared else { return nil }
        for arch in [75, 90] { _ = try nvrtc.compile(CUDAKernelSource.source, name: "titans_kernels.cu", target: .virtual(arch)) }
        return "NVRTC \(nvrtc.version.major).\(nvrtc.version.minor) (\(nvrtc.library.name)) compiled the "
            + "\(CUDAKernelSource.kernels.count * 2) kernels to PTX for compute_75 and compute_90"
    }
}
