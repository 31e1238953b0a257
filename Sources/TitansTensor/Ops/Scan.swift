/// Running sums and first-order linear recurrences along an axis.
/// Momentum and forgetting in the neural memory are such recurrences (paper Eqs. 13–14).
extension Tensor {
    /// Running sum along `axis` (from the end when `reverse`).
    public func cumulativeSum(axis: Int, reverse: Bool = false) -> Tensor {
        OpProfile.measure("cumulativeSum") {
            let a = Shape.axis(axis, rank: rank, op: "cumulativeSum")
            let x = contiguousData()
            let out = Tensor(uninitializedShape: shape, dtype: dtype)
            let outer = Shape.count(Array(shape[..<a])), length = shape[a], inner = Shape.count(Array(shape[(a + 1)...]))
            backend.cumulativeSum(x, outer: outer, length: length, inner: inner, reverse: reverse, into: out)
            return Tensor.record(out, "cumulativeSum", [self]) { ctx in [ctx.grad.cumulativeSum(axis: a, reverse: !reverse)] }
        }
    }

    /// The linear recurrence `h[t] = a[t] * h[t-1] + b[t]` along `axis`, starting from `h[-1] = initial`
    /// (zeros when `nil`; its `axis` has size 1). With `reverse` it runs from the end: `h[t] = a[t] * h[t+1] + b[t]`.
    /// `a`, `b` and `initial` broadcast; all three are differentiable.
    public static func linearScan(_ a: Tensor, _ b: Tensor, axis: Int, initial: Tensor? = nil, reverse: Bool = false) -> Tensor {
        OpProfile.measure("linearScan") {
            a.expectDType(b, "linearScan")
            let shape = Shape.broadcast([a.shape, b.shape], op: "linearScan")
            let ax = Shape.axis(axis, rank: shape.count, op: "linearScan")
            var initialShape = shape
            initialShape[ax] = 1
            let h0 = initial ?? Tensor.zeros(initialShape, dtype: a.dtype)
            a.expectDType(h0, "linearScan")
            precondition(Shape.broadcast(h0.shape, initialShape) == initialShape,
                         "linearScan: initial state \(h0.shape) does not broadcast to \(initialShape) (a \(a.shape), b \(b.shape))")
            let ac = a.expand(to: shape).contiguousData(), bc = b.expand(to: shape).contiguousData()
            let hc = h0.expand(to: initialShape).contiguousData()
            let out = Tensor(uninitializedShape: shape, dtype: a.dtype)
            let outer = Shape.count(Array(shape[..<ax])), length = shape[ax], inner = Shape.count(Array(shape[(ax + 1)...]))
            a.backend.linearScan(ac, bc, initial: hc, outer: outer, length: length, inner: inner, reverse: reverse, into: out)
            return record(out, "linearScan", [a, b, h0]) { ctx in
                if length == 0 { return ctx.inputs.map { Tensor.zeros(like: $0) } }
                let (a, h, g) = (ctx.inputs[0].expand(to: shape), ctx.output, ctx.grad)
                let h0 = ctx.inputs[2].expand(to: initialShape)
                let zero = Tensor.zeros(initialShape, dtype: g.dtype)
                // The adjoint runs the same recurrence the other way with coefficients shifted by one step:
                // λ[t] = g[t] + a[t+1] λ[t+1] (forward scan); gb = λ, ga[t] = λ[t] h[t-1], g_initial = a[first] λ[first].
                let first = reverse ? length - 1 : 0
                let shifted: Tensor, previous: Tensor
                if reverse {
                    shifted = concatenate([zero, a.slice(axis: ax, start: 0, end: length - 1)], axis: ax)
                    previous = concatenate([h.slice(axis: ax, start: 1, end: length), h0], axis: ax)
                } else {
                    shifted = concatenate([a.slice(axis: ax, start: 1, end: length), zero], axis: ax)
                    previous = concatenate([h0, h.slice(axis: ax, start: 0, end: length - 1)], axis: ax)
                }
                let lambda = linearScan(shifted, g, axis: ax, reverse: !reverse)
                let aFirst = a.slice(axis: ax, start: first, end: first + 1)
                let lambdaFirst = lambda.slice(axis: ax, start: first, end: first + 1)
                return [ctx.needs[0] ? (lambda * previous).sum(toShape: ctx.inputs[0].shape) : nil,
                        ctx.needs[1] ? lambda.sum(toShape: ctx.inputs[1].shape) : nil,
                        ctx.needs[2] ? (aFirst * lambdaFirst).sum(toShape: ctx.inputs[2].shape) : nil]
            }
        }
    }
}
