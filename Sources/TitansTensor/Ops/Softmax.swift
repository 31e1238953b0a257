/// Softmax and log-softmax along an axis, computed stably in one kernel; backward rules in differentiable ops.
extension Tensor {
    private func softmaxData(_ a: Int, log: Bool) -> Tensor {
        let x = contiguousData()
        let out = Tensor(uninitializedShape: shape, dtype: dtype)
        let outer = Shape.count(Array(shape[..<a])), length = shape[a], inner = Shape.count(Array(shape[(a + 1)...]))
        func run<T: TensorScalar>(_: T.Type) {
            let src = x.pointer(T.self), dst = out.pointer(T.self)
            Parallel.forRanges(outer * inner, grain: Swift.max(1, Parallel.elementwiseGrain / Swift.max(length, 1))) { range in
                for line in range {
                    let o = line / inner, i = line % inner
                    let base = o * length * inner + i
                    var m = -T.infinity
                    for t in 0..<length { m = Swift.max(m, src[base + t * inner]) }
                    if !m.isFinite { m = 0 }
                    var total: T = 0
                    for t in 0..<length {
                        let e = T.exp(src[base + t * inner] - m)
                        dst[base + t * inner] = e
                        total += e
                    }
                    if log {
                        // (x - m) - log(total): rounding m + log(total) first would lose the small log term next to a large m.
                        let logTotal = T.log(total)
                        for t in 0..<length { dst[base + t * inner] = (src[base + t * inner] - m) - logTotal }
                    } else {
                        let scale = 1 / total
                        for t in 0..<length { dst[base + t * inner] *= scale }
                    }
                }
            }
        }
        switch dtype {
        case .float32: run(Float.self)
        case .float64: run(Double.self)
        }
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
