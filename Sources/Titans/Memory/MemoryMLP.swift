import TitansNN

/// The memory model `M` (paper §3.1): an MLP applied per head, written in the row convention
/// `M(k) = σ(σ(k W₁) W₂) … W_L`, with no biases. Its weights are not module parameters but state:
/// each layer's weight is a tensor `[batch or 1, heads, input, output]`, so every sequence and head has its own memory.
struct MemoryMLP {
    let depth: Int
    let activation: NeuralMemoryConfiguration.Activation

    func activate(_ a: Tensor) -> Tensor {
        switch activation {
        case .silu: return a.silu()
        case .gelu: return a.gelu()
        }
    }

    /// σ'(a), written with differentiable ops so outer gradients can pass through it.
    func activationDerivative(_ a: Tensor) -> Tensor {
        switch activation {
        case .silu:
            let s = a.sigmoid()
            return s * (1 + a * (1 - s))
        case .gelu: // Φ(a) + a φ(a)
            let cdf = ((a * (0.5).squareRoot()).erf() + 1) * 0.5
            let density = (a.squared() * -0.5).exp() * (1 / (2 * Double.pi).squareRoot())
            return cdf + a * density
        }
    }

    /// `M(x)` for `x` of shape `[B, H, n, headWidth]` (Eq. 15, a read without any update).
    func callAsFunction(_ weights: [Tensor], _ x: Tensor) -> Tensor {
        var z = x
        for (l, w) in weights.enumerated() {
            z = z.matmul(w)
            if l < depth - 1 { z = activate(z) }
        }
        return z
    }

    /// The per-token gradients of the associative-memory loss ℓ = ‖M(k) − v‖² (Eq. 12) at `weights`, in factored form:
    /// token `m`'s gradient for layer `l` is the outer product `inputs[l][m]ᵀ deltas[l][m]`
    /// (layer input times the loss's derivative at the layer's output), computed for all tokens at once.
    func gradientFactors(_ weights: [Tensor], keys: Tensor, values: Tensor) -> (inputs: [Tensor], deltas: [Tensor]) {
        var inputs: [Tensor] = [], preActivations: [Tensor] = []
        var z = keys
        for (l, w) in weights.enumerated() {
            inputs.append(z)
            let a = z.matmul(w)
            preActivations.append(a)
            z = l < depth - 1 ? activate(a) : a
        }
        var delta = (z - values) * 2
        var deltas = [Tensor](repeating: delta, count: depth)
        for l in stride(from: depth - 1, to: 0, by: -1) {
            delta = delta.matmul(weights[l].transposed()) * activationDerivative(preActivations[l - 1])
            deltas[l - 1] = delta
        }
        return (inputs, deltas)
    }
}
