/// Normalisations over the last axis: RMSNorm and L2 in one kernel (composed ops where a weight or the axis does not
/// fit it), LayerNorm composed; every backward rule in differentiable ops, so every order of gradient is exact.
extension Tensor {
    /// RMSNorm: `x / sqrt(mean(x²) + eps)`, times `weight` when given (broadcast over the last axis). One kernel
    /// (`normalizeRows`) for a weight of the last axis's width, composed ops for another.
    public func rmsNormalized(weight: Tensor? = nil, epsilon: Double = 1e-6) -> Tensor {
        if rank >= 1, weight.map({ $0.shape == [shape[rank - 1]] }) ?? true {
            return normalizedRows(weight: weight, divisor: Double(shape[rank - 1]), epsilon: epsilon)
        }
        let y = self * (squared().mean(axis: -1, keepDims: true) + epsilon).rsqrt()
        return weight.map { y * $0 } ?? y
    }

    /// LayerNorm: `(x - mean) / sqrt(variance + eps)`, then `* weight + bias` when given.
    public func layerNormalized(weight: Tensor? = nil, bias: Tensor? = nil, epsilon: Double = 1e-5) -> Tensor {
        let centered = self - mean(axis: -1, keepDims: true)
        var y = centered * (centered.squared().mean(axis: -1, keepDims: true) + epsilon).rsqrt()
        if let weight { y = y * weight }
        if let bias { y = y + bias }
        return y
    }

    /// L2 normalisation along `axis`: `x / sqrt(sum(x²) + eps)` (equal to `x / max(‖x‖, √eps)` away from zero, and smooth at it).
    /// One kernel along the last axis, composed ops along another.
    public func l2Normalized(axis: Int = -1, epsilon: Double = 1e-12) -> Tensor {
        if rank >= 1, Shape.axis(axis, rank: rank, op: "l2Normalized") == rank - 1 {
            return normalizedRows(weight: nil, divisor: 1, epsilon: epsilon)
        }
        return self * (squared().sum(axis: axis, keepDims: true) + epsilon).rsqrt()
    }

    /// `x / sqrt(Σ x² / divisor + ε)` along the last axis, times `weight` (`[width]`) when given, in one kernel. The
    /// backward rule, with x̂ = x r, r = (Σ x² / D + ε)^(−1/2) and u = g ⊙ w: dx = r (u − x̂ Σ(u ⊙ x̂) / D), dw = Σ g ⊙ x̂
    /// over the rows; r is computed again there from differentiable ops, so every order of gradient is exact.
    private func normalizedRows(weight: Tensor?, divisor: Double, epsilon: Double) -> Tensor {
        OpProfile.measure("normalizeRows") {
            let width = shape[rank - 1]
            if let weight { expectDType(weight, "normalizedRows") }
            let out = Tensor(uninitializedShape: shape, dtype: dtype)
            backend.normalizeRows(contiguousData(), weight: weight?.contiguousData(), divisor: divisor, epsilon: epsilon,
                                  rows: width == 0 ? 0 : count / width, width: width, into: out)
            return Tensor.record(out, "normalizeRows", [self] + (weight.map { [$0] } ?? [])) { ctx in
                let (x, g) = (ctx.inputs[0], ctx.grad)
                let r = (x.squared().sum(axis: -1, keepDims: true) * (1 / divisor) + epsilon).rsqrt()
                let normalized = x * r
                let u = ctx.inputs.count > 1 ? g * ctx.inputs[1] : g
                let dx = ctx.needs[0]
                    ? r * (u - normalized * ((u * normalized).sum(axis: -1, keepDims: true) * (1 / divisor))) : nil
                guard ctx.inputs.count > 1 else { return [dx] }
                return [dx, ctx.needs[1] ? (g * normalized).sum(toShape: [width]) : nil]
            }
        }
    }
}
