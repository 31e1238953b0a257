/// Softmax and log-softmax along an axis, computed stably in one kernel; backward rules in differentiable ops.
extension Tensor {
    private func softmaxData(_ a: Int, log: Bool) -> Tensor {
        let x = contiguousData()
        let out = Tensor(uninitializedShape: shape, dtype: dtype)
        let outer = Shape.count(Array(shape[..<a])), length = shape[a], inner = Shape.count(Array(shape[(a + 1)...]))
        backend.softmax(x, outer: outer, length: length, inner: inner, log: log, into: out)
        return out
    }

    /// `exp(x) / sum(exp(x))` along `axis`.
    public func softmax(axis: Int = -1) -> Tensor {
        OpProfile.measure("softmax") {
            let a = Shape.axis(axis, rank: rank, op: "softmax")
            return Tensor.record(softmaxData(a, log: false), "softmax", [self]) { ctx in
                let (y, g) = (ctx.output, ctx.grad)
                return [y * (g - (g * y).sum(axis: a, keepDims: true))]
            }
        }
    }

    /// `x - logsumexp(x)` along `axis`.
    public func logSoftmax(axis: Int = -1) -> Tensor {
        OpProfile.measure("logSoftmax") {
            let a = Shape.axis(axis, rank: rank, op: "logSoftmax")
            return Tensor.record(softmaxData(a, log: true), "logSoftmax", [self]) { ctx in
                let (y, g) = (ctx.output, ctx.grad)
                return [g - y.exp() * g.sum(axis: a, keepDims: true)]
            }
        }
    }
}
