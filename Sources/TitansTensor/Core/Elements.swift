/// Reading elements back into Swift, conversions between dtypes, and copies.
extension Tensor {
    /// All elements in row-major order as `Double`.
    public func toArray() -> [Double] {
        let c = contiguousData()
        switch dtype {
        case .float32: return UnsafeBufferPointer(start: c.readPointer(Float.self), count: c.count).map(Double.init)
        case .float64: return Array(UnsafeBufferPointer(start: c.readPointer(Double.self), count: c.count))
        }
    }

    /// All elements in row-major order as `Float`.
    public func toFloatArray() -> [Float] {
        let c = contiguousData()
        switch dtype {
        case .float32: return Array(UnsafeBufferPointer(start: c.readPointer(Float.self), count: c.count))
        case .float64: return UnsafeBufferPointer(start: c.readPointer(Double.self), count: c.count).map(Float.init)
        }
    }

    /// Whether every element is finite (no NaN, no infinity); true for an empty tensor.
    public var allFinite: Bool {
        let c = contiguousData()
        switch dtype {
        case .float32: return UnsafeBufferPointer(start: c.readPointer(Float.self), count: c.count).allSatisfy(\.isFinite)
        case .float64: return UnsafeBufferPointer(start: c.readPointer(Double.self), count: c.count).allSatisfy(\.isFinite)
        }
    }

    /// The single element of a tensor with one element.
    public func item() -> Double {
        precondition(count == 1, "item: tensor of shape \(shape) has \(count) elements, not 1")
        switch dtype {
        case .float32: return Double(readPointer(Float.self)[0])
        case .float64: return readPointer(Double.self)[0]
        }
    }

    /// The element at a multi-index.
    public subscript(index: Int...) -> Double {
        precondition(index.count == rank, "subscript: \(index.count) indices for shape \(shape)")
        var p = offset
        for (d, i) in index.enumerated() {
            precondition(i >= 0 && i < shape[d], "subscript: index \(index) out of range for shape \(shape)")
            p += i * strides[d]
        }
        switch dtype {
        case .float32: return Double(storage.readPointer(Float.self)[p])
        case .float64: return storage.readPointer(Double.self)[p]
        }
    }

    /// A contiguous copy of the elements without recording history (for kernels and reading).
    func contiguousData() -> Tensor {
        isContiguous ? self : denseCopy()
    }

    /// A new contiguous tensor with the same elements and its own storage, without history.
    public func denseCopy() -> Tensor {
        let out = Tensor(uninitializedShape: shape, dtype: dtype)
        Tensor.copyElements(from: self, into: out)
        return out
    }

    /// Copies `source`, broadcast to `destination.shape`, into the (possibly strided) `destination`.
    static func copyElements(from source: Tensor, into destination: Tensor) {
        source.expectDType(destination, "copy")
        destination.backend.copy(source, into: destination)
    }

    /// This tensor with elements laid out densely; itself when already contiguous. Differentiable.
    public func contiguous() -> Tensor {
        OpProfile.measure("contiguous") {
            if isContiguous { return self }
            return Tensor.record(contiguousData(), "contiguous", [self]) { ctx in [ctx.grad] }
        }
    }

    /// This tensor converted to `dtype`; itself when it already has it. Differentiable.
    public func to(_ dtype: DType) -> Tensor {
        if dtype == self.dtype { return self }
        let out = Tensor(uninitializedShape: shape, dtype: dtype)
        let src = contiguousData()
        switch dtype {
        case .float64:
            let (o, x) = (out.pointer(Double.self), src.readPointer(Float.self))
            for i in 0..<count { o[i] = Double(x[i]) }
        case .float32:
            let (o, x) = (out.pointer(Float.self), src.readPointer(Double.self))
            for i in 0..<count { o[i] = Float(x[i]) }
        }
        let from = self.dtype
        return Tensor.record(out, "to", [self]) { ctx in [ctx.grad.to(from)] }
    }
}

extension Tensor {
    /// Calls `body` with a pointer to the first element of a contiguous float32 tensor (for interop and benchmarks).
    public func withUnsafeFloatPointer<R>(_ body: (UnsafePointer<Float>) throws -> R) rethrows -> R {
        precondition(dtype == .float32 && isContiguous, "withUnsafeFloatPointer: needs a contiguous float32 tensor, got \(dtype) \(shape)")
        return try body(readPointer(Float.self))
    }

    /// Calls `body` with a pointer to the first element of each of `tensors`, all contiguous float32, read only: for a
    /// kernel outside this module that reads many tensors at once (the memory's fused one-token step).
    public static func withUnsafeFloatPointers<R>(_ tensors: [Tensor], _ body: ([UnsafePointer<Float>]) throws -> R) rethrows -> R {
        for t in tensors {
            precondition(t.dtype == .float32 && t.isContiguous, "withUnsafeFloatPointers: needs contiguous float32 tensors, got \(t.dtype) \(t.shape)")
        }
        return try withUnsafeFloatViewPointers(tensors, body)
    }

    /// Calls `body` with a pointer to the first element of each of `tensors`, float32 of any layout (views, broadcast
    /// dims of stride 0), read only: the caller walks each by its `shape` and `strides` — for a kernel outside this
    /// module that reads views in place (decoding's attention over its cached rows).
    public static func withUnsafeFloatViewPointers<R>(_ tensors: [Tensor], _ body: ([UnsafePointer<Float>]) throws -> R) rethrows -> R {
        for t in tensors {
            precondition(t.dtype == .float32, "withUnsafeFloatViewPointers: needs float32 tensors, got \(t.dtype) \(t.shape)")
        }
        return try withExtendedLifetime(tensors) { try body(tensors.map { $0.readPointer(Float.self) }) }
    }

    /// Calls `body` with a pointer to the first element of each of `tensors`, all contiguous float32, to write (each
    /// tensor's device copy, if any, is stale after).
    public static func withUnsafeMutableFloatPointers<R>(_ tensors: [Tensor], _ body: ([UnsafeMutablePointer<Float>]) throws -> R) rethrows -> R {
        for t in tensors {
            precondition(t.dtype == .float32 && t.isContiguous, "withUnsafeMutableFloatPointers: needs contiguous float32 tensors, got \(t.dtype) \(t.shape)")
        }
        return try withExtendedLifetime(tensors) { try body(tensors.map { $0.pointer(Float.self) }) }
    }

    /// Calls `body` with a mutable pointer to the first element of a contiguous float32 tensor.
    public func withUnsafeMutableFloatPointer<R>(_ body: (UnsafeMutablePointer<Float>) throws -> R) rethrows -> R {
        precondition(dtype == .float32 && isContiguous, "withUnsafeMutableFloatPointer: needs a contiguous float32 tensor, got \(dtype) \(shape)")
        return try body(pointer(Float.self))
    }
}

extension Tensor {
    /// Overwrites this tensor's elements in place with `source`'s (broadcast to this shape, converted to this
    /// dtype), recording nothing: for loading weights and optimiser steps. Views of the same storage see the change.
    public func assign(_ source: Tensor) {
        precondition(Shape.broadcast(source.shape, shape) == shape, "assign: \(source.shape) does not broadcast to \(shape)")
        withoutGradients { Tensor.copyElements(from: source.detach().to(dtype), into: self) }
    }
}
