/// Gathering by integer index (embedding lookups, picking the target logit) and the scatter-adds that are their adjoints.
extension Tensor {
    /// Splits `shape` around `axis` into `[outer, length, inner]` counts.
    private func around(_ a: Int) -> (outer: Int, length: Int, inner: Int) {
        (Shape.count(Array(shape[..<a])), shape[a], Shape.count(Array(shape[(a + 1)...])))
    }

    /// Slices of `axis` chosen by `indices`: the result has `indices.shape` in place of that axis.
    /// With a `[vocabulary, width]` table and `axis: 0` this is an embedding lookup.
    public func indexSelect(axis: Int, indices: IndexTensor) -> Tensor {
        OpProfile.measure("indexSelect") {
            let a = Shape.axis(axis, rank: rank, op: "indexSelect")
            let (outer, length, inner) = around(a)
            precondition(indices.values.allSatisfy { $0 >= 0 && $0 < length },
                         "indexSelect: an index is out of range 0..<\(length) for axis \(a) of shape \(shape)")
            let out = Tensor(uninitializedShape: Array(shape[..<a]) + indices.shape + Array(shape[(a + 1)...]), dtype: dtype)
            let x = contiguousData()
            backend.indexSelect(x, indices: indices.values, outer: outer, length: length, inner: inner, into: out)
            return Tensor.record(out, "indexSelect", [self]) { ctx in
                [ctx.grad.indexAdd(axis: a, indices: indices, length: length)]
            }
        }
    }

    /// Zeros with `length` along `axis`, to which slice `j` of this tensor (along the `indices.shape` dims at `axis`)
    /// is added at position `indices[j]`: the adjoint of ``indexSelect(axis:indices:)``.
    public func indexAdd(axis: Int, indices: IndexTensor, length: Int) -> Tensor {
        OpProfile.measure("indexAdd") {
            let a = Shape.axis(axis, rank: rank - indices.shape.count + 1, op: "indexAdd")
            let lead = Array(shape[..<a]), trail = Array(shape[(a + indices.shape.count)...])
            precondition(Array(shape[a..<(a + indices.shape.count)]) == indices.shape,
                         "indexAdd: source \(shape) does not hold index shape \(indices.shape) at axis \(a)")
            precondition(indices.values.allSatisfy { $0 >= 0 && $0 < length }, "indexAdd: an index is out of range 0..<\(length)")
            let outer = Shape.count(lead), inner = Shape.count(trail)
            let out = Tensor.zeros(lead + [length] + trail, dtype: dtype)
            let x = contiguousData()
            backend.indexAdd(x, indices: indices.values, outer: outer, length: length, inner: inner, into: out)
            return Tensor.record(out, "indexAdd", [self]) { ctx in [ctx.grad.indexSelect(axis: a, indices: indices)] }
        }
    }

    /// One element along `axis` per position of the other axes: `out[..., j, ...] = x[..., indices[..., j, ...], ...]`,
    /// where `indices.shape` is this shape without `axis`. Picks the target logit in cross-entropy.
    public func take(alongAxis axis: Int, indices: IndexTensor) -> Tensor {
        OpProfile.measure("take") {
            let a = Shape.axis(axis, rank: rank, op: "take")
            var reduced = shape
            reduced.remove(at: a)
            precondition(indices.shape == reduced, "take: indices of shape \(indices.shape) for shape \(shape) along axis \(a)")
            let (outer, length, inner) = around(a)
            precondition(indices.values.allSatisfy { $0 >= 0 && $0 < length }, "take: an index is out of range 0..<\(length)")
            let out = Tensor(uninitializedShape: reduced, dtype: dtype)
            let x = contiguousData()
            backend.take(x, indices: indices.values, outer: outer, length: length, inner: inner, into: out)
            let inputShape = shape
            return Tensor.record(out, "take", [self]) { ctx in [ctx.grad.put(alongAxis: a, indices: indices, shape: inputShape)] }
        }
    }

    /// Zeros of `shape` with this tensor's elements placed at `indices` along `axis`: the adjoint of ``take(alongAxis:indices:)``.
    public func put(alongAxis axis: Int, indices: IndexTensor, shape: [Int]) -> Tensor {
        OpProfile.measure("put") {
            let a = Shape.axis(axis, rank: shape.count, op: "put")
            var reduced = shape
            reduced.remove(at: a)
            precondition(self.shape == reduced && indices.shape == reduced, "put: source \(self.shape) and indices \(indices.shape) do not fit \(shape) along axis \(a)")
            let outer = Shape.count(Array(shape[..<a])), length = shape[a], inner = Shape.count(Array(shape[(a + 1)...]))
            precondition(indices.values.allSatisfy { $0 >= 0 && $0 < length }, "put: an index is out of range 0..<\(length)")
            let out = Tensor.zeros(shape, dtype: dtype)
            let x = contiguousData()
            backend.put(x, indices: indices.values, outer: outer, length: length, inner: inner, into: out)
            return Tensor.record(out, "put", [self]) { ctx in [ctx.grad.take(alongAxis: a, indices: indices)] }
        }
    }
}
