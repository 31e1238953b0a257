/// The rotation of rotary position embeddings, in one kernel.
extension Tensor {
    /// `self` `[…, T, d]` rotated in pairs (c, c + d/2) by the angles of its positions, `cos` and `sin` `[T, d/2]`
    /// (rotary embeddings): `y_c = x_c cos_c − x_{c+d/2} sin_c`, `y_{c+d/2} = x_{c+d/2} cos_c + x_c sin_c`, in one
    /// kernel. The tables are constants (no gradient); the rotation's adjoint is the rotation by −sin, so the backward
    /// rule is this op again and every order of gradient follows.
    public func rotatedHalves(cos: Tensor, sin: Tensor) -> Tensor {
        precondition(rank >= 2 && shape[rank - 1] % 2 == 0 && cos.shape == [shape[rank - 2], shape[rank - 1] / 2] && sin.shape == cos.shape,
                     "rotatedHalves: input \(shape) must be [..., T, d] with d even, and the tables [T, d/2], not \(cos.shape) and \(sin.shape)")
        expectDType(cos, "rotatedHalves")
        expectDType(sin, "rotatedHalves")
        return OpProfile.measure("rotateHalves") {
            let (positions, width) = (shape[rank - 2], shape[rank - 1])
            let out = Tensor(uninitializedShape: shape, dtype: dtype)
            backend.rotateHalves(contiguousData(), cos: cos.contiguousData(), sin: sin.contiguousData(),
                                 rows: width == 0 ? 0 : count / width, positions: positions, width: width, into: out)
            let (cos, sin) = (cos.detach(), sin.detach())
            return Tensor.record(out, "rotateHalves", [self]) { ctx in [ctx.grad.rotatedHalves(cos: cos, sin: -sin)] }
        }
    }
}
