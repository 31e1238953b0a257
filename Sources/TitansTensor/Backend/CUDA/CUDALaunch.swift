import Foundation

/// The part of a host tensor's storage that its view reaches, copied to the GPU for one kernel call
/// (``CUDABackend``'s staging): `base` holds storage element `first`, so the view starts `offset` elements in.
final class DeviceCopy {
    let tensor: Tensor
    let base: CUDADriver.DevicePointer
    /// The view's first element, counted from `base`.
    let offset: Int
    private let first: Int, count: Int
    private let driver: CUDADriver

    init(_ tensor: Tensor, driver: CUDADriver) throws {
        self.tensor = tensor
        self.driver = driver
        let reach = zip(tensor.shape, tensor.strides).reduce(0) { $0 + ($1.0 - 1) * $1.1 }
        if tensor.count == 0 {
            (first, count) = (tensor.offset, 0)
        } else if tensor.strides.allSatisfy({ $0 >= 0 }) {
            (first, count) = (tensor.offset, reach + 1)
        } else {
            (first, count) = (0, tensor.storage.count)  // negative strides: the whole storage
        }
        offset = tensor.offset - first
        let bytes = count * tensor.dtype.byteCount
        base = try driver.allocate(bytes: bytes)
        let host = tensor.storage.raw + first * tensor.dtype.byteCount
        do { try driver.copy(from: host, to: base, bytes: bytes) } catch {
            driver.release(base)
            throw error
        }
    }

    /// The GPU's copy back into the host storage, after every kernel so far.
    func copyBack() throws {
        try driver.copy(from: base, to: tensor.storage.raw + first * tensor.dtype.byteCount, bytes: count * tensor.dtype.byteCount)
    }

    func release() { driver.release(base) }
}

/// An elementwise kernel's walk (the kernels' `Layout`): the output's shape with its dimensions merged where every
/// operand allows (``ElementwisePlan``), and each operand's strides and offset, as 45 eight-byte words.
struct CUDALayout {
    static let maxDimensions = 8, maxOperands = 4
    let words: [Int64]

    /// `operands[0]` is the output; the others are broadcast to `shape`. Each operand's `offset` is where its view
    /// starts in the memory the kernel gets for it.
    init(shape: [Int], operands: [(tensor: Tensor, offset: Int)]) {
        let plan = ElementwisePlan(shape: shape, operands: operands.enumerated().map { index, operand in
            (index == 0 ? operand.tensor.strides : ElementwisePlan.broadcastStrides(operand.tensor, to: shape), operand.offset)
        })
        let sizes = plan.outerShape + [plan.inner]
        precondition(sizes.count <= Self.maxDimensions && operands.count <= Self.maxOperands,
                     "CUDALayout: \(sizes.count) dimensions and \(operands.count) operands; the kernels take 8 and 4")
        var words = [Int64](repeating: 0, count: 1 + Self.maxDimensions * (1 + Self.maxOperands) + Self.maxOperands)
        words[0] = Int64(sizes.count)
        for (d, size) in sizes.enumerated() { words[1 + d] = Int64(size) }
        for o in operands.indices {
            let strides = plan.outerStrides.map { $0[o] } + [plan.innerStrides[o]]
            for (d, stride) in strides.enumerated() { words[1 + Self.maxDimensions * (1 + o) + d] = Int64(stride) }
            words[1 + Self.maxDimensions * (1 + Self.maxOperands) + o] = Int64(plan.offsets[o])
        }
        self.words = words
    }

    /// A matrix operand's strides over the batch dimensions `batchShape` (0 where it is broadcast).
    static func batchStrides(_ t: Tensor, to batchShape: [Int]) -> [Int] {
        ElementwisePlan.broadcastStrides(Tensor(storage: t.storage, shape: Array(t.shape.dropLast(2)),
                                                strides: Array(t.strides.dropLast(2))), to: batchShape)
    }

    /// One stride per operand when the batch dimensions fold into one run, as a strided-batched product needs.
    static func foldedBatchStrides(_ batchShape: [Int], _ a: [Int], _ b: [Int]) -> (Int, Int)? {
        let dims = batchShape.indices.filter { batchShape[$0] != 1 }
        guard let last = dims.last else { return (0, 0) }
        for (d, next) in zip(dims, dims.dropFirst()) where a[d] != a[next] * batchShape[next] || b[d] != b[next] * batchShape[next] {
            return nil
        }
        return (a[last], b[last])
    }

    /// Element offsets of product `i` (row-major over `batchShape`) in each operand.
    static func batchOffsets(_ i: Int, _ batchShape: [Int], _ a: [Int], _ b: [Int]) -> (Int, Int) {
        var (rest, oa, ob) = (i, 0, 0)
        for d in batchShape.indices.reversed() {
            let index = rest % batchShape[d]
            rest /= batchShape[d]
            oa += index * a[d]
            ob += index * b[d]
        }
        return (oa, ob)
    }
}

/// A kernel's arguments, each copied into its own buffer, as `cuLaunchKernel` takes them (an array of pointers, one
/// per parameter, in order).
final class KernelArguments {
    private var buffers: [UnsafeMutableRawPointer] = []

    func add<T>(_ value: T) {
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: MemoryLayout<T>.size, alignment: 16)
        buffer.storeBytes(of: value, as: T.self)
        buffers.append(buffer)
    }

    /// A struct passed by value: its words laid out as the C struct holds them.
    func add(_ words: [Int64]) {
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: Swift.max(words.count, 1) * 8, alignment: 16)
        words.withUnsafeBytes { bytes in
            if let base = bytes.baseAddress { buffer.copyMemory(from: base, byteCount: bytes.count) }
        }
        buffers.append(buffer)
    }

    func withPointers<R>(_ body: (UnsafeMutablePointer<UnsafeMutableRawPointer?>?) throws -> R) rethrows -> R {
        var pointers: [UnsafeMutableRawPointer?] = buffers
        return try pointers.withUnsafeMutableBufferPointer { try body($0.baseAddress) }
    }

    deinit { buffers.forEach { $0.deallocate() } }
}
