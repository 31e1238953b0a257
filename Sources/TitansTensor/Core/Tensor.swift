/// An N-dimensional array of `Float` or `Double` that records the ops applied to it so that
/// gradients, and gradients of gradients, can be computed by reverse-mode autodiff.
///
/// A tensor is a view (`shape`, `strides`, `offset`) of a ``Storage``; reshapes of contiguous
/// data, permutes, slices and broadcasts share that storage without copying.
///
/// ```swift
/// let x = Tensor.randomNormal([4, 3], generator: &rng).requiringGrad()
/// let loss = (x * x).sum()
/// loss.backward()          // x.grad == 2 * x
/// ```
public final class Tensor {
    public let storage: Storage
    public let shape: [Int]
    public let strides: [Int]
    public let offset: Int

    /// How this tensor was computed; `nil` for leaves and for tensors made without gradient recording.
    var gradNode: GradNode?
    private var isLeafRequiringGrad = false

    /// The accumulated gradient of a leaf after ``backward(seed:createGraph:)``.
    public var grad: Tensor?

    init(storage: Storage, shape: [Int], strides: [Int], offset: Int = 0) {
        self.storage = storage
        self.shape = shape
        self.strides = strides
        self.offset = offset
    }

    /// A new contiguous tensor over fresh storage.
    convenience init(uninitializedShape shape: [Int], dtype: DType) {
        self.init(storage: Storage(count: Shape.count(shape), dtype: dtype),
                  shape: shape, strides: Shape.contiguousStrides(shape))
    }

    public var dtype: DType { storage.dtype }
    public var rank: Int { shape.count }
    public var count: Int { Shape.count(shape) }

    /// Whether gradients flow to this tensor: a leaf marked with ``requiringGrad(_:)`` or the result of an op on one.
    public var requiresGrad: Bool {
        get { gradNode != nil || isLeafRequiringGrad }
        set {
            precondition(gradNode == nil, "requiresGrad: can only be set on a leaf tensor; use detach() first")
            isLeafRequiringGrad = newValue
        }
    }

    /// Whether this tensor has no recorded history (it was created, not computed).
    public var isLeaf: Bool { gradNode == nil }

    /// Marks this leaf as requiring gradients and returns it.
    @discardableResult
    public func requiringGrad(_ flag: Bool = true) -> Tensor {
        requiresGrad = flag
        return self
    }

    /// Whether the elements are laid out densely in row-major order.
    public var isContiguous: Bool {
        var expected = 1
        for i in stride(from: rank - 1, through: 0, by: -1) where shape[i] != 1 {
            if strides[i] != expected { return false }
            expected *= shape[i]
        }
        return true
    }

    @inline(__always) func pointer<T: TensorScalar>(_ type: T.Type) -> UnsafeMutablePointer<T> {
        storage.pointer(T.self) + offset
    }

    /// The first element for reading only (a device's copy stays current; ``Storage/readPointer(_:)``).
    @inline(__always) func readPointer<T: TensorScalar>(_ type: T.Type) -> UnsafePointer<T> {
        storage.readPointer(T.self) + offset
    }

    /// Stops with a message naming `op` unless the dtype matches.
    func expectDType(_ other: Tensor, _ op: String) {
        precondition(dtype == other.dtype,
                     "\(op): dtype mismatch \(dtype) \(shape) vs \(other.dtype) \(other.shape); convert with .to(_:)")
    }
}
