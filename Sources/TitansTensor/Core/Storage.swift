import Foundation

/// A reference-counted buffer of elements that one or more tensors view (64-byte aligned from 64 KiB, 16 below: `BufferCache`).
///
/// ```swift
/// let x = Tensor.zeros([4, 4])
/// let view = x.transposed()   // a new shape and strides over the same Storage
/// ```
public final class Storage: @unchecked Sendable {
    public let dtype: DType
    public let count: Int
    let raw: UnsafeMutableRawPointer

    /// Whether `raw` is this storage's own (freed with it) or memory it only views.
    private let ownsMemory: Bool
    /// The copy on a device and which side is current (``DeviceMirror``), once a device backend has used this storage;
    /// nil for storage only the CPU has touched. Read and written under ``DeviceMirror/lock``.
    var mirror: DeviceMirror?

    /// Allocates uninitialised storage for `count` elements.
    init(count: Int, dtype: DType) {
        precondition(count >= 0, "Storage: negative element count \(count)")
        self.dtype = dtype
        self.count = count
        raw = BufferCache.allocate(byteCount: max(count, 1) * dtype.byteCount)
        ownsMemory = true
    }

    /// Storage over `count` elements at `memory`, which someone else owns and keeps alive (a simulated device's buffer).
    init(viewing memory: UnsafeMutableRawPointer, count: Int, dtype: DType) {
        self.dtype = dtype
        self.count = count
        raw = memory
        ownsMemory = false
    }

    /// Bytes the elements take (at least one, so that empty storage has an address).
    var byteCount: Int { max(count, 1) * dtype.byteCount }

    /// Allocates storage filled with zeros.
    static func zeroed(count: Int, dtype: DType) -> Storage {
        let s = Storage(count: count, dtype: dtype)
        s.raw.initializeMemory(as: UInt8.self, repeating: 0, count: max(count, 1) * dtype.byteCount)
        return s
    }

    deinit {
        mirror?.release()
        if ownsMemory { BufferCache.deallocate(raw, byteCount: byteCount) }
    }

    /// The elements in host memory, to read or write: where a device holds newer values they are copied back first,
    /// and the device's copy is stale after (``DeviceMirror/hostAccess(_:writing:)``). Free while no device is in use.
    @inline(__always) func pointer<T: TensorScalar>(_: T.Type) -> UnsafeMutablePointer<T> {
        if DeviceMirror.inUse { DeviceMirror.hostAccess(self, writing: true) }
        return raw.assumingMemoryBound(to: T.self)
    }

    /// The elements in host memory, to read only: copied back first where a device holds newer values, and the
    /// device's copy stays current.
    @inline(__always) func readPointer<T: TensorScalar>(_: T.Type) -> UnsafePointer<T> {
        if DeviceMirror.inUse { DeviceMirror.hostAccess(self, writing: false) }
        return UnsafePointer(raw.assumingMemoryBound(to: T.self))
    }
}
