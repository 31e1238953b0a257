/// Normalisations over the last axis, composed from differentiable ops so every order of gradient is exact.
extension Tensor {
    /// RMSNorm: `x / sqrt(mean(x²) + eps)`, times `weight` when given (broadcast over the last axis).
    public func rmsNormalized(weight: Tensor? = nil, epsilon: Double = 1e-6) -> Tensor {
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
    public func l2Normalized(axis: Int = -1, epsilon: Double = 1e-12) -> Tensor {
        self * (squared().sum(axis: axis, keepDims: true) + epsilon).rsqrt()
    }
}
