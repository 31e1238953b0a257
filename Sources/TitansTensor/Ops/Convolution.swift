/// Depthwise causal 1-D convolution over a sequence axis.
extension Tensor {
    /// `y[b, t, c] = Σ_j weight[c, j] * x[b, t - K + 1 + j, c] (+ bias[c])` for input `[batch, time, channels]`
    /// and `weight` `[channels, K]`; positions before the start are zeros, so `y[t]` sees only `x[≤ t]`.
    /// With `past` > 0 the input's first `past` positions are earlier inputs, seen by the taps but given no output:
    /// `y` is `[batch, time − past, channels]`, the full convolution's last positions (a stream continued in pieces).
    /// One fused multiply-add per tap.
    public func depthwiseCausalConvolution(weight: Tensor, bias: Tensor? = nil, past: Int = 0) -> Tensor {
        precondition(rank == 3 && weight.rank == 2 && weight.shape[0] == shape[2],
                     "depthwiseCausalConvolution: input \(shape) must be [batch, time, channels] and weight \(weight.shape) [channels, kernel]")
        precondition((0...shape[1]).contains(past), "depthwiseCausalConvolution: past \(past) must be in 0...\(shape[1])")
        let (time, kernel) = (shape[1] - past, weight.shape[1])
        let missing = Swift.max(0, kernel - 1 - past)  // zeros before the first input the earliest tap reaches
        let padded = missing > 0 ? self.padded(axis: 1, before: missing, after: 0) : self
        let first = past + missing - (kernel - 1)  // where the first output's earliest tap lies in `padded`
        var y: Tensor? = bias
        for j in 0..<kernel {
            let tap = padded.slice(axis: 1, start: first + j, end: first + j + time), w = weight.select(axis: 1, index: j)
            y = y.map { tap.multiplyAdd(w, $0) } ?? tap * w
        }
        return y ?? Tensor.zeros([shape[0], time, shape[2]], dtype: dtype)
    }
}
