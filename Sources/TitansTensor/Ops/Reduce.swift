/// Reductions over any set of axes (sum, mean, max, logsumexp) and argmax.
enum Reduction: String {
    case sum, max
}

extension Tensor {
    /// Reduces a run of adjacent axes `first...last` (kept as size 1) of a contiguous copy of this tensor, without history.
    private func reduceAdjacent(_ first: Int, _ last: Int, _ reduction: Reduction) -> Tensor {
        let x = contiguousData()
        let outer = Shape.count(Array(shape[..<first]))
        let length = Shape.count(Array(shape[first...last]))
        let inner = Shape.count(Array(shape[(last + 1)...]))
        var outShape = shape
        for d in first...last { outShape[d] = 1 }
        precondition(length > 0 || reduction == .sum, "max: cannot reduce an empty axis of shape \(shape)")
        let out = Tensor(uninitializedShape: outShape, dtype: dtype)
        backend.reduce(reduction, x, outer: outer, length: length, inner: inner, into: out)
        return out
    }

    /// Reduces `axes` (kept as size 1) without history: groups of adjacent axes are reduced one group at a time.
    func reduceData(_ axes: [Int], _ reduction: Reduction) -> Tensor {
        var groups: [(Int, Int)] = []
        for a in axes {
            if let last = groups.last, last.1 == a - 1 { groups[groups.count - 1].1 = a } else { groups.append((a, a)) }
        }
        var result = self
        for (first, last) in groups.reversed() { result = result.reduceAdjacent(first, last, reduction) }
        return result
    }

    private func reducedShape(_ axes: [Int], keepDims: Bool) -> [Int] {
        keepDims ? shape.enumerated().map { axes.contains($0.offset) ? 1 : $0.element }
            : shape.enumerated().filter { !axes.contains($0.offset) }.map(\.element)
    }

    /// Sum over `axes` (all when `nil`), dropping them unless `keepDims`.
    public func sum(axes: [Int]? = nil, keepDims: Bool = false) -> Tensor {
        OpProfile.measure("sum") {
            let axes = Shape.axes(axes, rank: rank, op: "sum")
            let kept = reduceData(axes, .sum)
            let out = kept.reshapedData(reducedShape(axes, keepDims: keepDims))
            let (inputShape, keptShape) = (shape, kept.shape)
            return Tensor.record(out, "sum", [self]) { ctx in
                [ctx.grad.reshape(keptShape).expand(to: inputShape)]
            }
        }
    }

    public func sum(axis: Int, keepDims: Bool = false) -> Tensor { sum(axes: [axis], keepDims: keepDims) }

    /// Mean over `axes` (all when `nil`).
    public func mean(axes: [Int]? = nil, keepDims: Bool = false) -> Tensor {
        let axes = Shape.axes(axes, rank: rank, op: "mean")
        let n = axes.reduce(1) { $0 * shape[$1] }
        return sum(axes: axes, keepDims: keepDims) * (1 / Double(n))
    }

    public func mean(axis: Int, keepDims: Bool = false) -> Tensor { mean(axes: [axis], keepDims: keepDims) }

    /// Maximum over `axes` (all when `nil`); the gradient is shared evenly among tied maxima.
    public func max(axes: [Int]? = nil, keepDims: Bool = false) -> Tensor {
        OpProfile.measure("max") {
            let axes = Shape.axes(axes, rank: rank, op: "max")
            let kept = reduceData(axes, .max)
            let out = kept.reshapedData(reducedShape(axes, keepDims: keepDims))
            let keptShape = kept.shape
            return Tensor.record(out, "max", [self]) { ctx in
                let mask = ctx.inputs[0].equal(to: ctx.output.reshape(keptShape))
                let share = mask / mask.sum(axes: axes, keepDims: true)
                return [ctx.grad.reshape(keptShape) * share]
            }
        }
    }

    public func max(axis: Int, keepDims: Bool = false) -> Tensor { max(axes: [axis], keepDims: keepDims) }

    /// `log(sum(exp(x)))` over `axes`, computed stably by subtracting the maximum.
    public func logSumExp(axes: [Int]? = nil, keepDims: Bool = false) -> Tensor {
        let axes = Shape.axes(axes, rank: rank, op: "logSumExp")
        // The maximum is a constant shift: the result does not depend on it, so no gradient flows through it.
        let m = withoutGradients { max(axes: axes, keepDims: true) }
        let finite = Tensor.where(m.abs().less(than: .infinity), m, m.scalarLike(0))
        let lse = (self - finite).exp().sum(axes: axes, keepDims: true).log() + finite
        return keepDims ? lse : lse.reshape(reducedShape(axes, keepDims: false))
    }

    public func logSumExp(axis: Int, keepDims: Bool = false) -> Tensor { logSumExp(axes: [axis], keepDims: keepDims) }

    /// Index of the first maximum along `axis`, with that axis removed.
    public func argmax(axis: Int) -> IndexTensor {
        let a = Shape.axis(axis, rank: rank, op: "argmax")
        precondition(shape[a] > 0, "argmax: empty axis \(a) of shape \(shape)")
        let x = contiguousData()
        let outer = Shape.count(Array(shape[..<a])), inner = Shape.count(Array(shape[(a + 1)...]))
        let values = backend.argmax(x, outer: outer, length: shape[a], inner: inner)
        return IndexTensor(shape: reducedShape([a], keepDims: false), values)
    }

    /// Sums broadcast dimensions away so the result has `target` shape (the adjoint of broadcasting).
    public func sum(toShape target: [Int]) -> Tensor {
        if shape == target { return self }
        let lead = rank - target.count
        precondition(lead >= 0, "sum(toShape:): cannot reduce \(shape) to \(target)")
        var axes = Array(0..<lead)
        for d in 0..<target.count where target[d] == 1 && shape[d + lead] != 1 { axes.append(d + lead) }
        precondition((0..<target.count).allSatisfy { target[$0] == 1 || target[$0] == shape[$0 + lead] },
                     "sum(toShape:): cannot reduce \(shape) to \(target)")
        return sum(axes: axes, keepDims: true).reshape(target)
    }
}
