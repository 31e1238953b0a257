import Foundation

/// Memory on a device that a backend keeps tensors in: the CUDA driver's, or a simulated device's in the tests.
protocol DeviceMemory: AnyObject {
    func allocate(bytes: Int) throws -> UInt64
    func release(_ address: UInt64, bytes: Int)
    func upload(from host: UnsafeRawPointer, to address: UInt64, bytes: Int) throws
    func download(from address: UInt64, to host: UnsafeMutableRawPointer, bytes: Int) throws
    /// Whether host memory gone stale is filled with NaNs (a simulated device does, so a read that missed the copy
    /// back shows), rather than left as it was.
    var poisonsStaleHost: Bool { get }
}

/// A storage's copy on a device, and which of the two copies holds the latest values. Tensors live where they were
/// last written: a device kernel's output stays on the device, and only a read on the host (``Storage/readPointer(_:)``:
/// printing, `toArray()`, a checkpoint, a CPU op) copies it back, while host-made tensors (constants, data, new
/// parameters) go up once, at their first use by a kernel. Neither side is touched while both are current.
final class DeviceMirror {
    /// Guards every mirror's state; recursive, since a copy back can run inside a backend's call.
    static let lock = NSRecursiveLock()
    /// Set for good when a device backend first makes a mirror; until then host access costs one load.
    nonisolated(unsafe) static private(set) var inUse = false

    let memory: any DeviceMemory
    let address: UInt64
    let bytes: Int
    private(set) var hostCurrent = true, deviceCurrent = false

    private init(memory: any DeviceMemory, address: UInt64, bytes: Int) {
        (self.memory, self.address, self.bytes) = (memory, address, bytes)
    }

    /// How a kernel uses an operand's storage.
    enum Use {
        /// Reads it: the device's copy must be current.
        case read
        /// Writes every element without reading: nothing is copied up, and the host's copy is stale after.
        case overwrite
        /// Writes some elements (a view) or adds into it: the device's copy must be current, the host's is stale after.
        case update

        /// How a kernel uses its output `out`: overwritten when it writes the whole storage, else (a view, or a kernel
        /// that `adds` into it) updated.
        static func output(_ out: Tensor, adds: Bool = false) -> Use {
            !adds && out.offset == 0 && out.count == out.storage.count && out.isContiguous ? .overwrite : .update
        }
    }

    /// The device address of `storage`'s first element in `memory`, ready for `use`: made and copied up as needed.
    static func deviceAddress(of storage: Storage, in memory: any DeviceMemory, for use: Use) throws -> UInt64 {
        lock.lock()
        defer { lock.unlock() }
        inUse = true
        if let existing = storage.mirror, existing.memory !== memory {  // last used by another device: bring it home
            existing.copyToHost(storage)
            storage.mirror = nil
            existing.release()
        }
        let mirror = try storage.mirror ?? {
            let made = DeviceMirror(memory: memory, address: try memory.allocate(bytes: storage.byteCount), bytes: storage.byteCount)
            storage.mirror = made
            return made
        }()
        if use != .overwrite && !mirror.deviceCurrent {
            try memory.upload(from: storage.raw, to: mirror.address, bytes: mirror.bytes)
            mirror.deviceCurrent = true
        }
        if use != .read {
            mirror.deviceCurrent = true
            mirror.hostCurrent = false
            if memory.poisonsStaleHost { storage.raw.initializeMemory(as: UInt8.self, repeating: 0xFF, count: mirror.bytes) }
        }
        return mirror.address
    }

    /// Before the host reads `storage` (or writes it, `writing`): the device's newer values copied back; after a write
    /// the device's copy is stale.
    static func hostAccess(_ storage: Storage, writing: Bool) {
        lock.lock()
        defer { lock.unlock() }
        guard let mirror = storage.mirror else { return }
        mirror.copyToHost(storage)
        if writing { mirror.deviceCurrent = false }
    }

    private func copyToHost(_ storage: Storage) {
        guard !hostCurrent else { return }
        do { try memory.download(from: address, to: storage.raw, bytes: bytes) } catch {
            fatalError("DeviceMirror: copying a tensor back from the device failed: \(error)")
        }
        hostCurrent = true
    }

    /// Gives the device memory back (when its storage goes).
    func release() { memory.release(address, bytes: bytes) }
}
