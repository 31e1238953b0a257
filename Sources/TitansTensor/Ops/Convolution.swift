/// Depthwise causal 1-D convolution over a sequence axis.
extension Tensor {
    /// `y[b, t, c] = Σ_j weight[c, j] * x[b, t - K + 1 + j, c] (+ bias[c])` for input `[batch, time, channels]`
    /// and `weight` `[channels, K]`; positions before the start are zeros, so `y[t]` sees only `x[≤ t]`.
    public func depthwiseCausalConvolution(weight: Tensor, bias: Tensor? = nil) -> Tensor {
        precondition(rank == 3 && weight.rank == 2 && weight.shape[0] == shape[2],
                     "depthwiseCausalConvolution: input \(shape) must be [batch, time, channels] and weight \(weight.shape) [channels, kernel]")
        let (time, kernel) = (shape[1], weight.shape[1])
        let padded = self.padded(axis: 1, before: kernel - 1, after: 0)
        var y = bias ?? Tensor.zeros([shape[2]], dtype: dtype)
        for j in 0..<kernel {
            y = y + padded.slice(axis: 1, start: j, end: j + time) * weight.select(axis: 1, index: j)
        }
        return y
    }
}
