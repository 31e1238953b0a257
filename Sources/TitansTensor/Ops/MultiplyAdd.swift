extension Tensor {
    /// `self ⊙ scale + addend` in one pass, NumPy broadcasting all three: the fused form of `self * scale + addend`
    /// (one output written instead of a product and a sum), as recurrences that decay a state and add to it use it.
    public func multiplyAdd(_ scale: Tensor, _ addend: Tensor) -> Tensor {
        OpProfile.measure("multiplyAdd") {
            expectDType(scale, "multiplyAdd")
            expectDType(addend, "multiplyAdd")
            let out = Tensor(uninitializedShape: Shape.broadcast([shape, scale.shape, addend.shape], op: "multiplyAdd"), dtype: dtype)
            backend.multiplyAdd(self, scale, addend, into: out)
            return Tensor.record(out, "multiplyAdd", [self, scale, addend]) { ctx in
                let (a, s, c, g) = (ctx.inputs[0], ctx.inputs[1], ctx.inputs[2], ctx.grad)
                return [ctx.needs[0] ? (g * s).sum(toShape: a.shape) : nil, ctx.needs[1] ? (g * a).sum(toShape: s.shape) : nil,
                        ctx.needs[2] ? g.sum(toShape: c.shape) : nil]
            }
        }
    }
}
