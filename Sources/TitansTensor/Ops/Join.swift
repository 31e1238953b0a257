/// Joining and splitting along an axis: concatenate, stack, split, chunk.
extension Tensor {
    /// Joins tensors of equal shape but for `axis`.
    public static func concatenate(_ tensors: [Tensor], axis: Int) -> Tensor {
        OpProfile.measure("concatenate") {
            precondition(!tensors.isEmpty, "concatenate: no tensors")
            let first = tensors[0]
            let a = Shape.axis(axis, rank: first.rank, op: "concatenate")
            for t in tensors {
                first.expectDType(t, "concatenate")
                precondition(t.rank == first.rank && (0..<t.rank).allSatisfy { $0 == a || t.shape[$0] == first.shape[$0] },
                             "concatenate: shapes \(tensors.map(\.shape)) differ outside axis \(a)")
            }
            var shape = first.shape
            shape[a] = tensors.reduce(0) { $0 + $1.shape[a] }
            let out = Tensor(uninitializedShape: shape, dtype: first.dtype)
            var start = 0
            var bounds: [(Int, Int)] = []
            withoutGradients {
                for t in tensors {
                    let end = start + t.shape[a]
                    copyElements(from: t, into: out.slice(axis: a, start: start, end: end))
                    bounds.append((start, end))
                    start = end
                }
            }
            return record(out, "concatenate", tensors) { ctx in
                zip(bounds, ctx.needs).map { bound, needed in
                    needed ? ctx.grad.slice(axis: a, start: bound.0, end: bound.1) : nil
                }
            }
        }
    }

    /// Joins tensors of equal shape along a new axis.
    public static func stack(_ tensors: [Tensor], axis: Int = 0) -> Tensor {
        precondition(!tensors.isEmpty, "stack: no tensors")
        let a = Shape.axis(axis, rank: tensors[0].rank + 1, op: "stack")
        return concatenate(tensors.map { $0.unsqueeze(a) }, axis: a)
    }

    /// Views of consecutive pieces of the given sizes along `axis`.
    public func split(sizes: [Int], axis: Int) -> [Tensor] {
        let a = Shape.axis(axis, rank: rank, op: "split")
        precondition(sizes.allSatisfy { $0 >= 0 } && sizes.reduce(0, +) == shape[a],
                     "split: sizes \(sizes) do not add up to axis \(a) of shape \(shape)")
        var start = 0
        return sizes.map { size in
            defer { start += size }
            return slice(axis: a, start: start, end: start + size)
        }
    }

    /// `count` views of (nearly) equal size along `axis`; the last may be shorter, as in PyTorch.
    public func chunk(_ count: Int, axis: Int) -> [Tensor] {
        let a = Shape.axis(axis, rank: rank, op: "chunk")
        precondition(count >= 1, "chunk: count must be ≥ 1, got \(count)")
        let size = (shape[a] + count - 1) / count
        guard size > 0 else { return [self] }
        return stride(from: 0, to: shape[a], by: size).map { slice(axis: a, start: $0, end: Swift.min($0 + size, shape[a])) }
    }
}
