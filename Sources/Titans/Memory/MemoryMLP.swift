import TitansNN

/// The memory model `M` (paper §3.1): an MLP applied per head, written in the row convention
/// `M(k) = σ(σ(k W₁) W₂) … W_L`, with no biases; optionally wrapped as `k + LN(MLP(k)) ⊙ (g + 1)` (the TTT-style
/// LayerNorm-residual wrapper titans-pytorch uses), the gain g being part of the memory too. Its weights are not module
/// parameters but state: each layer's weight is a tensor `[batch or 1, heads, input, output]` and the gain
/// `[batch or 1, heads, 1, headWidth]` comes last, so every sequence and head has its own memory.
struct MemoryMLP {
    let depth: Int
    let activation: NeuralMemoryConfiguration.Activation
    /// A linear map beside the MLP, `M(x) = MLP(x) + x W_s` (depth ≥ 2): its weight comes after the layers'.
    var shortcut = false
    var residualNorm = false
    var loss = InnerLoss.squaredError
    /// M₀, when forgetting decays the memory toward it (``NeuralMemoryConfiguration/forgetsTowardInitial``); `nil`:
    /// forgetting decays toward zero (Eq. 13).
    var anchor: ForgettingAnchor? = nil

    /// ``ForgettingAnchor/restoring(_:retention:_:)`` with this memory's anchor; `carried` itself without an anchor or
    /// without forgetting.
    func towardAnchor(_ carried: Tensor, retention: Tensor?, _ l: Int) -> Tensor {
        guard let anchor, let retention else { return carried }
        return anchor.restoring(carried, retention: retention, l)
    }

    /// ``ForgettingAnchor/restoring(read:_:retention:_:)`` with this memory's anchor; `read` itself without an anchor
    /// or without forgetting.
    func readTowardAnchor(_ read: Tensor, _ z: Tensor, retention: Tensor?, _ l: Int) -> Tensor {
        guard let anchor, let retention else { return read }
        return anchor.restoring(read: read, z, retention: retention, l)
    }

    /// LayerNorm without affine parameters inside the wrapper.
    static let normEpsilon = 1e-5

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

    /// The matrices: the layers', then the shortcut's. The gain of the residual wrapper, if any, comes after them.
    var matrixCount: Int { depth + (shortcut ? 1 : 0) }

    /// `M(x)` for `x` of shape `[B, H, n, headWidth]` (Eq. 15, a read without any update).
    func callAsFunction(_ weights: [Tensor], _ x: Tensor) -> Tensor {
        var z = x
        for l in 0..<depth {
            z = z.matmul(weights[l])
            if l < depth - 1 { z = activate(z) }
        }
        if shortcut { z = z + x.matmul(weights[depth]) }
        return residualNorm ? wrap(z, gain: weights[matrixCount], input: x) : z
    }

    /// Each matrix's input for `x` (`x` itself for the first layer and the shortcut), as the forward pass computes them.
    func layerInputs(_ weights: [Tensor], _ x: Tensor) -> [Tensor] {
        var inputs = [x]
        for l in 0..<(depth - 1) { inputs.append(activate(inputs[l].matmul(weights[l]))) }
        return inputs + (shortcut ? [x] : [])
    }

    /// `x + LN(h) ⊙ (g + 1)`, with a gain per row or shared.
    func wrap(_ h: Tensor, gain: Tensor, input: Tensor) -> Tensor {
        h.layerNormalized(epsilon: Self.normEpsilon) * (gain + 1) + input
    }

    /// The per-token gradients of the inner loss (ℓ = ‖M(k) − v‖², Eq. 12, or another ``InnerLoss``) at `weights`, in factored form,
    /// for all tokens of `keys` and `values` `[B, H, n, headWidth]` at once.
    func gradientFactors(_ weights: [Tensor], keys: Tensor, values: Tensor) -> GradientFactors {
        var inputs: [Tensor] = [], preActivations: [Tensor] = []
        var z = keys
        for l in 0..<depth {
            inputs.append(z)
            let a = z.matmul(weights[l])
            preActivations.append(a)
            z = l < depth - 1 ? activate(a) : a
        }
        if shortcut { z = z + keys.matmul(weights[depth]) }
        var delta: Tensor, gainGradient: Tensor? = nil, outputGradient: Tensor, read: Tensor
        if residualNorm {
            // out = k + n ⊙ (gain + 1), n = (h − μ)/σ: dℓ/dgain = δ_out ⊙ n; dℓ/dh = (e − mean e − n mean(e ⊙ n)) / σ, e = δ_out ⊙ (gain + 1).
            let centered = z - z.mean(axis: -1, keepDims: true)
            let inverseDeviation = (centered.squared().mean(axis: -1, keepDims: true) + Self.normEpsilon).rsqrt()
            let normalized = centered * inverseDeviation
            let gain = weights[matrixCount]
            read = normalized * (gain + 1) + keys
            outputGradient = loss.outputGradient(read, values)
            gainGradient = outputGradient * normalized
            let e = outputGradient * (gain + 1)
            delta = (e - e.mean(axis: -1, keepDims: true) - normalized * (e * normalized).mean(axis: -1, keepDims: true))
                * inverseDeviation
        } else {
            read = z
            outputGradient = loss.outputGradient(z, values)
            delta = outputGradient
        }
        var deltas = [Tensor](repeating: delta, count: depth)
        let shortcutDelta = delta  // the shortcut's output is the MLP's
        for l in stride(from: depth - 1, to: 0, by: -1) {
            delta = delta.matmul(weights[l].transposed()) * activationDerivative(preActivations[l - 1])
            deltas[l - 1] = delta
        }
        if shortcut {
            inputs.append(keys)
            deltas.append(shortcutDelta)
        }
        return GradientFactors(gradients: TokenGradients(inputs: inputs, deltas: deltas, gain: gainGradient), output: outputGradient,
                               objectiveCurvature: loss.curvatureFactor(read, values, outputGradient: outputGradient))
    }
}

/// Every token's gradient of the inner loss at one set of weights, factored (``TokenGradients``), with what the step
/// rules read besides.
struct GradientFactors {
    var gradients: TokenGradients
    /// dℓ/dM(k) `[B, H, n, headWidth]`.
    var output: Tensor
    /// The objective's curvature factor `[B, H, n]`, `nil` for 1 (``GradientSizes/objectiveCurvature``).
    var objectiveCurvature: Tensor?

    /// The sizes the step rules read (a rank-1 gradient's norm is the product of its factors' norms).
    var sizes: GradientSizes {
        func squaredNorms(_ t: Tensor) -> Tensor { t.squared().sum(axis: -1) }
        let inputNorms = gradients.inputs.map(squaredNorms)
        let layers = zip(inputNorms, gradients.deltas).map { $0 * squaredNorms($1) }
        return GradientSizes(inputs: inputNorms, parameters: layers + (gradients.gain.map { [squaredNorms($0)] } ?? []),
                             output: squaredNorms(output), objectiveCurvature: objectiveCurvature)
    }
}

/// Per-token gradients of the memory's parameter tensors, never formed: token `m`'s gradient of matrix `l` is the outer
/// product `inputs[l][m]ᵀ deltas[l][m]` (the layer's input times the loss's derivative at the layer's output), of the
/// gain `gain[m]`. Weighted sums of them are read and formed through the factors (the dual form,
/// NeuralMemoryForms.md "The chunked dual form").
struct TokenGradients {
    /// Each matrix's input `[B, H, n, input]` (the layers', then the shortcut's).
    var inputs: [Tensor]
    /// dℓ/d(layer output) `[B, H, n, output]`.
    var deltas: [Tensor]
    /// With the residual wrapper, each token's gradient for the gain `[B, H, n, headWidth]`.
    var gain: Tensor?

    /// Each token's ⟨u_m, S⟩ summed over the parameter tensors `[B, H, n]`, S one tensor per parameter tensor
    /// (x_m S δ_m for a matrix: its gradient x_mᵀ δ_m never formed).
    func products(with surprise: [Tensor]) -> Tensor {
        var products = inputs.indices.map { (inputs[$0].matmul(surprise[$0]) * deltas[$0]).sum(axis: -1) }
        if let gain { products.append((gain * surprise[inputs.count]).sum(axis: -1)) }
        return products.dropFirst().reduce(products[0], +)
    }

    /// Σ_m w_m u_m formed, for parameter tensor `l` (the matrices, then the gain), token weights `w` `[B, H, n]`.
    func combined(_ l: Int, _ w: Tensor) -> Tensor {
        let weights = w.unsqueeze(-1)
        if l == inputs.count, let gain { return (gain * weights).sum(axis: 2, keepDims: true) }
        return (inputs[l] * weights).transposed().matmul(deltas[l])
    }

    /// Row i of `z` `[B, H, r, input]` times Σ_m W[i, m] u_m of matrix `l`, for weights `W` `[B, H, r or 1, n]`, without
    /// forming the sums: ((z Xᵀ) ⊙ W) Δ.
    func read(_ z: Tensor, through l: Int, weights: Tensor) -> Tensor {
        (z.matmul(inputs[l].transposed()) * weights).matmul(deltas[l])
    }

    /// These tokens followed by `later`'s.
    func appending(_ later: TokenGradients) -> TokenGradients {
        func join(_ a: Tensor, _ b: Tensor) -> Tensor { Tensor.concatenate([a, b], axis: 2) }
        return TokenGradients(inputs: zip(inputs, later.inputs).map(join), deltas: zip(deltas, later.deltas).map(join),
                              gain: gain.flatMap { g in later.gain.map { join(g, $0) } })
    }
}
