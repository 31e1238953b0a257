import TitansNN

/// The steps a chunk takes while decoding, kept as their gradients' factors (``TokenGradients``) and two rows of
/// per-token coefficients instead of being formed: the steps' weights are Σ_m w_m u_m and their surprise Σ_m s_m u_m,
/// and each token's step (Eqs. 13–14: S ← η S + θ u, M ← (1 − α) M + S) changes only the coefficients,
///   s ← [η s, θ_t],   w ← [(1 − α) w + η s, θ_t].
/// A read through them is a few products with the chunk's tokens so far instead of a pass over the memory's weights
/// (the dual form, NeuralMemoryForms.md "The chunked dual form"); they are formed once, when the chunk closes or the
/// chunked form continues from the cursor. Unscaled and positive: the memory takes them times −ρ
/// (``MemoryCursor/memory``).
struct FactoredSteps {
    var gradients: TokenGradients
    /// w and s per parameter tensor `[B, H, m]`, one tensor for all where the parameter tensors share θ.
    var weightCoefficients: [Tensor]
    var surpriseCoefficients: [Tensor]

    /// The steps formed: (Σ_m w_m u_m, Σ_m s_m u_m) per parameter tensor.
    var formed: MemoryState {
        MemoryState(weights: weightCoefficients.indices.map { gradients.combined($0, weightCoefficients[$0]) },
                    surprise: surpriseCoefficients.indices.map { gradients.combined($0, surpriseCoefficients[$0]) })
    }

    /// Rows `z` `[B, H, 1, input]` times matrix `l` of the steps' weights, never formed.
    func read(_ z: Tensor, through l: Int) -> Tensor {
        gradients.read(z, through: l, weights: weightCoefficients[l].unsqueeze(-2))
    }

    /// The steps' weight of the residual wrapper's gain `[B, H, 1, headWidth]`, the parameter tensor after the matrices.
    var gain: Tensor { gradients.combined(gradients.inputs.count, weightCoefficients[gradients.inputs.count]) }

    /// One more token's step: its gradients `next`, θ per parameter tensor, η and 1 − α `[B, H, 1]` (`nil`: η ≡ 0, α ≡ 0).
    func appending(_ next: TokenGradients, learningRates theta: [Tensor], momentum: Tensor?, retention: Tensor?) -> FactoredSteps {
        var w: [Tensor] = [], s: [Tensor] = []
        for l in theta.indices {
            if l > 0, theta[l] === theta[0], weightCoefficients[l] === weightCoefficients[0],
               surpriseCoefficients[l] === surpriseCoefficients[0] {  // θ shared: one pair of rows for all
                w.append(w[0])
                s.append(s[0])
                continue
            }
            let carriedSurprise = momentum.map { surpriseCoefficients[l] * $0 }  // η s
            let keptWeights = retention.map { weightCoefficients[l] * $0 } ?? weightCoefficients[l]  // (1 − α) w
            s.append(Tensor.concatenate([carriedSurprise ?? Tensor.zeros(like: surpriseCoefficients[l]), theta[l]], axis: -1))
            w.append(Tensor.concatenate([carriedSurprise.map { keptWeights + $0 } ?? keptWeights, theta[l]], axis: -1))
        }
        return FactoredSteps(gradients: gradients.appending(next), weightCoefficients: w, surpriseCoefficients: s)
    }

    /// The steps with every tensor cut from the outer graph.
    func detached() -> FactoredSteps {
        FactoredSteps(gradients: TokenGradients(inputs: gradients.inputs.map { $0.detach() }, deltas: gradients.deltas.map { $0.detach() },
                                                gain: gradients.gain?.detach()),
                      weightCoefficients: weightCoefficients.map { $0.detach() }, surpriseCoefficients: surpriseCoefficients.map { $0.detach() })
    }

    /// Every tensor kept, for counting the state's size.
    var tensors: [Tensor] {
        gradients.inputs + gradients.deltas + (gradients.gain.map { [$0] } ?? []) + weightCoefficients + surpriseCoefficients
    }
}

extension FactoredSteps {
    /// A chunk's first step taken while decoding: θ_t u_t in both weights and surprise (θ `[B, H, 1]` per parameter tensor).
    init(_ gradients: TokenGradients, learningRates theta: [Tensor]) {
        self.init(gradients: gradients, weightCoefficients: theta, surpriseCoefficients: theta)
    }
}
