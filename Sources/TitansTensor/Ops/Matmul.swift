/// Matrix product with broadcast batch dimensions (the kernel: ``CPUBackend``).
extension Tensor {
    /// `self @ other` for tensors of rank ≥ 2: `[..., m, k] @ [..., k, n] -> [..., m, n]`, batch dims broadcast.
    public func matmul(_ other: Tensor) -> Tensor {
        OpProfile.measure("matmul") {
            precondition(rank >= 2 && other.rank >= 2, "matmul: needs rank ≥ 2 operands, got \(shape) @ \(other.shape)")
            expectDType(other, "matmul")
            let (m, k, n) = (shape[rank - 2], shape[rank - 1], other.shape[other.rank - 1])
            precondition(other.shape[other.rank - 2] == k, "matmul: inner dimensions differ in \(shape) @ \(other.shape)")
            let batch = Shape.broadcast([Array(shape.dropLast(2)), Array(other.shape.dropLast(2))], op: "matmul")
            let out = Tensor(uninitializedShape: batch + [m, n], dtype: dtype)
            backend.matmul(self, other, into: out)
            if FLOPCount.isCounting { FLOPCount.add(2 * m * n * k * Shape.count(batch)) }
            return Tensor.record(out, "matmul", [self, other]) { ctx in
                let (a, b, g) = (ctx.inputs[0], ctx.inputs[1], ctx.grad)
                let ga = ctx.needs[0] ? g.matmul(b.transposed()).sum(toShape: a.shape) : nil
                var gb: Tensor?
                if ctx.needs[1] {
                    // A matrix shared by every batch: one product over all batch rows instead of a batch and a sum.
                    gb = b.rank == 2 && a.rank > 2
                        ? a.reshape([-1, k]).transposed().matmul(g.reshape([-1, n]))
                        : a.transposed().matmul(g).sum(toShape: b.shape)
                }
                return [ga, gb]
            }
        }
    }
}
