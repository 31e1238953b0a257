import Foundation

/// A reference-counted, 64-byte aligned buffer of elements that one or more tensors view.
///
/// ```swift
/// let x = Tensor.zeros([4, 4])
/// let view = x.transposed()   // a new shape and strides over the same Storage
/// ```
public final class Storage: @unchecked Sendable {
    public let dtype: DType
    public let count: Int
    let raw: UnsafeMutableRawPointer

    /// Allocates uninitialised storage for `count` elements.
    init(count: Int, dtype: DType) {
        precondition(count >= 0, "Storage: negative element count \(count)")
        self.dtype = dtype
        self.count = count
        raw = BufferCache.allocate(byteCount: max(count, 1) * dtype.byteCount)
    }

    /// Allocates storage filled with zeros.
    static func zeroed(count: Int, dtype: DType) -> Storage {
        let s = Storage(count: count, dtype: dtype)
        s.raw.initializeMemory(as: UInt8.self, repeating: 0, count: max(count, 1) * dtype.byteCount)
        return s
    }

    deinit { BufferCache.deallocate(raw, byteCount: max(count, 1) * dtype.byteCount) }

    @inline(__always) func pointer<T: TensorScalar>(_: T.Type) -> UnsafeMutablePointer<T> {
        raw.assumingMemoryBound(to: T.self)
    }
}
