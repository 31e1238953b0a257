import Foundation

/// A device whose memory is host memory kept apart from the tensors' own, with a backend that runs the CPU's kernels
/// on views of it. It drives everything a GPU backend does with where tensors live (``DeviceMirror``) on a machine
/// without a GPU: the tests run models on it against the CPU, and since host copies gone stale are filled with NaNs, a
/// read that missed its copy back shows. It counts the copies each way.
final class SimulatedDevice: DeviceMemory, ComputeBackend, @unchecked Sendable {
    private let lock = NSLock()
    private var blocks: [UInt64: UnsafeMutableRawPointer] = [:]
    private(set) var uploads = 0, downloads = 0
    let poisonsStaleHost = true

    func allocate(bytes: Int) throws -> UInt64 {
        let block = UnsafeMutableRawPointer.allocate(byteCount: Swift.max(bytes, 1), alignment: 64)
        block.initializeMemory(as: UInt8.self, repeating: 0xFF, count: Swift.max(bytes, 1))  // NaNs until written
        let address = UInt64(UInt(bitPattern: block))
        lock.lock()
        blocks[address] = block
        lock.unlock()
        return address
    }

    func release(_ address: UInt64, bytes: Int) {
        lock.lock()
        let block = blocks.removeValue(forKey: address)
        lock.unlock()
        block?.deallocate()
    }

    func upload(from host: UnsafeRawPointer, to address: UInt64, bytes: Int) throws {
        lock.lock()
        uploads += 1
        let block = blocks[address]
        lock.unlock()
        block?.copyMemory(from: host, byteCount: bytes)
    }

    func download(from address: UInt64, to host: UnsafeMutableRawPointer, bytes: Int) throws {
        lock.lock()
        downloads += 1
        let block = blocks[address]
        lock.unlock()
        if let block { host.copyMemory(from: block, byteCount: bytes) }
    }

    /// `t` as a view of its storage's copy on this device, made current for `use`.
    private func onDevice(_ t: Tensor, _ use: DeviceMirror.Use) -> Tensor {
        do {
            let address = try DeviceMirror.deviceAddress(of: t.storage, in: self, for: use)
            guard let block = UnsafeMutableRawPointer(bitPattern: UInt(address)) else { fatalError("SimulatedDevice: null block") }
            return Tensor(storage: Storage(viewing: block, count: t.storage.count, dtype: t.dtype), shape: t.shape,
                          strides: t.strides, offset: t.offset)
        } catch { fatalError("SimulatedDevice: \(error)") }
    }

    /// The output as a view on this device, made ready as ``CUDABackend`` makes its outputs (``DeviceMirror/Use/output(_:adds:)``).
    private func output(_ out: Tensor, adds: Bool = false) -> Tensor { onDevice(out, .output(out, adds: adds)) }

    private var cpu: CPUBackend { CPUBackend.shared }

    func unary(_ f: UnaryFunction, _ x: Tensor, into out: Tensor) {
        let x = onDevice(x, .read)
        cpu.unary(f, x, into: output(out))
    }

    func binary(_ f: BinaryFunction, _ a: Tensor, _ b: Tensor, into out: Tensor) {
        let (a, b) = (onDevice(a, .read), onDevice(b, .read))
        cpu.binary(f, a, b, into: output(out))
    }

    func select(_ mask: Tensor, _ a: Tensor, _ b: Tensor, into out: Tensor) {
        let (mask, a, b) = (onDevice(mask, .read), onDevice(a, .read), onDevice(b, .read))
        cpu.select(mask, a, b, into: output(out))
    }

    func multiplyAdd(_ a: Tensor, _ scale: Tensor, _ addend: Tensor, into out: Tensor) {
        let (a, scale, addend) = (onDevice(a, .read), onDevice(scale, .read), onDevice(addend, .read))
        cpu.multiplyAdd(a, scale, addend, into: output(out))
    }

    func copy(_ source: Tensor, into out: Tensor) {
        let source = onDevice(source, .read)
        cpu.copy(source, into: output(out))
    }

    func matmul(_ a: Tensor, _ b: Tensor, into out: Tensor) {
        let (a, b) = (onDevice(a, .read), onDevice(b, .read))
        cpu.matmul(a, b, into: output(out))
    }

    func reduce(_ reduction: Reduction, _ x: Tensor, outer: Int, length: Int, inner: Int, into out: Tensor) {
        let x = onDevice(x, .read)
        cpu.reduce(reduction, x, outer: outer, length: length, inner: inner, into: output(out))
    }

    func argmax(_ x: Tensor, outer: Int, length: Int, inner: Int) -> [Int] {
        cpu.argmax(onDevice(x, .read), outer: outer, length: length, inner: inner)
    }

    func cumulativeSum(_ x: Tensor, outer: Int, length: Int, inner: Int, reverse: Bool, into out: Tensor) {
        let x = onDevice(x, .read)
        cpu.cumulativeSum(x, outer: outer, length: length, inner: inner, reverse: reverse, into: output(out))
    }

    func linearScan(_ a: Tensor, _ b: Tensor, initial: Tensor, outer: Int, length: Int, inner: Int, reverse: Bool,
                    into out: Tensor) {
        let (a, b, initial) = (onDevice(a, .read), onDevice(b, .read), onDevice(initial, .read))
        cpu.linearScan(a, b, initial: initial, outer: outer, length: length, inner: inner, reverse: reverse, into: output(out))
    }

    func softmax(_ x: Tensor, outer: Int, length: Int, inner: Int, log: Bool, into out: Tensor) {
        let x = onDevice(x, .read)
        cpu.softmax(x, outer: outer, length: length, inner: inner, log: log, into: output(out))
    }

    func normalizeRows(_ x: Tensor, weight: Tensor?, divisor: Double, epsilon: Double, rows: Int, width: Int, into out: Tensor) {
        let (x, weight) = (onDevice(x, .read), weight.map { onDevice($0, .read) })
        cpu.normalizeRows(x, weight: weight, divisor: divisor, epsilon: epsilon, rows: rows, width: width, into: output(out))
    }

    func rotateHalves(_ x: Tensor, cos: Tensor, sin: Tensor, rows: Int, positions: Int, width: Int, into out: Tensor) {
        let (x, cos, sin) = (onDevice(x, .read), onDevice(cos, .read), onDevice(sin, .read))
        cpu.rotateHalves(x, cos: cos, sin: sin, rows: rows, positions: positions, width: width, into: output(out))
    }

    func indexSelect(_ x: Tensor, indices: [Int], outer: Int, length: Int, inner: Int, into out: Tensor) {
        let x = onDevice(x, .read)
        cpu.indexSelect(x, indices: indices, outer: outer, length: length, inner: inner, into: output(out))
    }

    func indexAdd(_ x: Tensor, indices: [Int], outer: Int, length: Int, inner: Int, into out: Tensor) {
        let x = onDevice(x, .read)
        cpu.indexAdd(x, indices: indices, outer: outer, length: length, inner: inner, into: output(out, adds: true))
    }

    func take(_ x: Tensor, indices: [Int], outer: Int, length: Int, inner: Int, into out: Tensor) {
        let x = onDevice(x, .read)
        cpu.take(x, indices: indices, outer: outer, length: length, inner: inner, into: output(out))
    }

    func put(_ x: Tensor, indices: [Int], outer: Int, length: Int, inner: Int, into out: Tensor) {
        let x = onDevice(x, .read)
        cpu.put(x, indices: indices, outer: outer, length: length, inner: inner, into: output(out, adds: true))
    }
}
