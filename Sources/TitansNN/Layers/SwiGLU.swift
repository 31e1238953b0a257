/// The SwiGLU feed-forward block (Shazeer 2020; Llama's MLP): `down(silu(gate(x)) ⊙ up(x))` over the last axis.
///
/// `x` is `[…, width]`; `gate` and `up` map `width → hidden`, `down` maps `hidden → width`, all without bias.
/// Parameters are named `gate.weight`, `up.weight`, `down.weight` (weights `[in, out]`).
///
/// ```swift
/// let feedForward = SwiGLU(width: 256, hidden: 683, generator: &rng)
/// let y = feedForward(x)   // [..., 256] → [..., 256]
/// ```
public final class SwiGLU: Module {
    public let gate: Linear
    public let up: Linear
    public let down: Linear

    /// Weights uniform in ±1/√fan-in (``Linear``'s initialisation), drawn from `generator` in the order gate, up, down.
    public init(width: Int, hidden: Int, dtype: DType = .float32, generator: inout RandomGenerator) {
        gate = Linear(width, hidden, bias: false, dtype: dtype, generator: &generator)
        up = Linear(width, hidden, bias: false, dtype: dtype, generator: &generator)
        down = Linear(hidden, width, bias: false, dtype: dtype, generator: &generator)
    }

    public var width: Int { gate.weight.shape[0] }
    public var hidden: Int { gate.weight.shape[1] }

    /// `[…, width] → […, width]`.
    public func callAsFunction(_ x: Tensor) -> Tensor {
        down(gate(x).silu() * up(x))
    }
}
