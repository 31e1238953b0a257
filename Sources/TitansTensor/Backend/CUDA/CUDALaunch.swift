import Foundation

/// An operand of a kernel on a device: its storage's address there, made current for its use (``DeviceMirror``).
struct DeviceOperand {
    let tensor: Tensor
    /// The storage's first element on the device.
    let base: UInt64
    /// The view's first element on the device.
    var address: UInt64 { base + UInt64(tensor.offset * tensor.dtype.byteCount) }

    init(_ tensor: Tensor, in memory: any DeviceMemory, for use: DeviceMirror.Use) throws {
        self.tensor = tensor
        base = try DeviceMirror.deviceAddress(of: tensor.storage, in: memory, for: use)
    }
}

/// GPU memory through a cache of freed blocks, as deep-learning frameworks keep one: freeing on the GPU waits for the
/// device, and a training step frees and asks again for the same sizes. Blocks are sized in powers of two from 512
/// bytes; the cache is emptied and the allocation retried when the GPU runs out.
final class CUDAMemoryPool: DeviceMemory, @unchecked Sendable {
    private let driver: CUDADriver
    private let lock = NSLock()
    private var free: [Int: [UInt64]] = [:]
    let poisonsStaleHost = false

    init(driver: CUDADriver) { self.driver = driver }

    private static func blockSize(_ bytes: Int) -> Int { Swift.max(512, 1 << (Int.bitWidth - (Swift.max(bytes, 1) - 1).leadingZeroBitCount)) }

    func allocate(bytes: Int) throws -> UInt64 {
        let size = Self.blockSize(bytes)
        lock.lock()
        defer { lock.unlock() }
        if let block = free[size]?.popLast() { return block }
        do { return try driver.allocate(bytes: size) } catch {
            for block in free.values.joined() { driver.release(block) }
            free = [:]
            return try driver.allocate(bytes: size)
        }
    }

    func release(_ address: UInt64, bytes: Int) {
        lock.lock()
        defer { lock.unlock() }
        free[Self.blockSize(bytes), default: []].append(address)
    }

    func upload(from host: UnsafeRawPointer, to address: UInt64, bytes: Int) throws {
        try driver.makeCurrent()
        try driver.copy(from: host, to: address, bytes: bytes)
    }

    func download(from address: UInt64, to host: UnsafeMutableRawPointer, bytes: Int) throws {
        try driver.makeCurrent()
        try driver.copy(from: address, to: host, bytes: bytes)
    }
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
