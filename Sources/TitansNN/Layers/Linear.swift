/// `y = x W + b`: a fully connected layer over the last axis, `W` stored `[inputWidth, outputWidth]`.
///
/// ```swift
/// let projection = Linear(256, 64, bias: false, generator: &rng)
/// let y = projection(x)   // [..., 256] → [..., 64]
/// ```
public final class Linear: Module {
    public let weight: Tensor
    public let bias: Tensor?

    /// Weights uniform in ±1/√inputWidth (PyTorch's default for `nn.Linear`); bias likewise when `bias`.
    public init(_ inputWidth: Int, _ outputWidth: Int, bias: Bool = true, dtype: DType = .float32,
                generator: inout RandomGenerator) {
        let bound = 1 / Double(inputWidth).squareRoot()
        weight = Tensor.randomUniform([inputWidth, outputWidth], low: -bound, high: bound, dtype: dtype, generator: &generator)
            .requiringGrad()
        self.bias = bias
            ? Tensor.randomUniform([outputWidth], low: -bound, high: bound, dtype: dtype, generator: &generator).requiringGrad()
            : nil
    }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        let y = x.matmul(weight)
        return bias.map { y + $0 } ?? y
    }
}

/// RMSNorm over the last axis with a learned scale (initialised to ones).
///
/// ```swift
/// let norm = RMSNorm(64)
/// let y = norm(x)   // each row over its last axis, times a learned gain
/// ```
public final class RMSNorm: Module {
    public let weight: Tensor
    public let epsilon: Double

    public init(_ width: Int, epsilon: Double = 1e-6, dtype: DType = .float32) {
        weight = Tensor.ones([width], dtype: dtype).requiringGrad()
        self.epsilon = epsilon
    }

    public func callAsFunction(_ x: Tensor) -> Tensor { x.rmsNormalized(weight: weight, epsilon: epsilon) }
}

/// Depthwise causal 1-D convolution over `[batch, time, channels]` with a learned `[channels, kernel]` filter and bias.
///
/// ```swift
/// let convolution = DepthwiseCausalConvolution(channels: 64, kernel: 4, generator: &rng)
/// let y = convolution(x)   // x [batch, time, 64]: each channel over its own last 4 steps
/// ```
public final class DepthwiseCausalConvolution: Module {
    public let weight: Tensor
    public let bias: Tensor

    /// Filter and bias uniform in ±1/√kernel (PyTorch's default for a depthwise `nn.Conv1d`).
    public init(channels: Int, kernel: Int, dtype: DType = .float32, generator: inout RandomGenerator) {
        let bound = 1 / Double(kernel).squareRoot()
        weight = Tensor.randomUniform([channels, kernel], low: -bound, high: bound, dtype: dtype, generator: &generator).requiringGrad()
        bias = Tensor.randomUniform([channels], low: -bound, high: bound, dtype: dtype, generator: &generator).requiringGrad()
    }

    public var kernel: Int { weight.shape[1] }

    /// The convolution of `x` `[batch, time, channels]`, whose first `past` positions are earlier inputs given no output.
    public func callAsFunction(_ x: Tensor, past: Int = 0) -> Tensor { x.depthwiseCausalConvolution(weight: weight, bias: bias, past: past) }
}
