import TitansNN

/// The forms of the memory's update and read (paper §3.1–3.2; the derivation is the article `Titans.docc/NeuralMemoryForms.md`),
/// one file each:
/// - ``sequential(_:_:_:rule:)`` (`MemoryUpdate+References.swift`): Eqs. 12–15 written literally, token by token,
///   each gradient taken at `M_{t−1}` by the autodiff engine;
/// - ``miniBatch(_:_:_:chunkSize:rule:)`` (same file): the same loop, every gradient of a chunk taken at its start
///   (Eqs. 16–18);
/// - ``chunked(_:_:_:chunkSize:rule:)`` (`MemoryUpdate+Chunked.swift`): the mini-batch form with batched matmuls, a
///   chunk at a time (the dual form);
/// - ``recurrent(_:_:_:chunkSize:rule:)`` (`MemoryUpdate+Recurrent.swift`): the mini-batch form one token at a time
///   with factored gradients, for decoding;
/// - ``exactDeltaRule(_:_:blockSize:)`` (`MemoryUpdate+DeltaRule.swift`): form 1 in parallel blocks, for a matrix
///   memory with plain steps and no momentum (the delta rule).
/// Each returns the reads `[B, H, T, headWidth]` (token `t` read from its own state `M_t`) and where the memory stands.
enum MemoryUpdate {
    /// One token's step (Eqs. 13–14): S_t = η_t S_{t−1} − θ_t u_t, M_t = (1 − α_t) M_{t−1} + S_t (+ α_t M₀ with
    /// forgetting toward `mlp`'s anchor), for the token's gradient `u` (per parameter tensor) and its step sizes; with a
    /// chunk bound the step joins the chunk's unscaled steps instead (NeuralMemoryForms.md "Step rules"). Closes the chunk
    /// after its last token.
    static func step(_ cursor: inout MemoryCursor, _ mlp: MemoryMLP, gradient: [Tensor], sizes: StepSizes, token: MemoryStream,
                     chunkSize: Int) {
        let momentum = token.logMomentum.map { $0.exp().unsqueeze(-1) }  // η_t [B, H, 1, 1]
        let retention = token.logRetention.map { $0.exp().unsqueeze(-1) }  // 1 − α_t
        /// S ← η S + added, M ← (1 − α) M + S, plus α M₀ for the memory itself (`anchored`) with forgetting toward M₀.
        func advance(_ state: inout MemoryState, adding added: [Tensor]?, anchored: Bool) {
            for l in state.weights.indices {
                var surprise = momentum.map { state.surprise[l] * $0 }  // η S; nil when η ≡ 0
                if let added { surprise = surprise.map { $0 + added[l] } ?? added[l] }
                state.surprise[l] = surprise ?? Tensor.zeros(like: state.surprise[l])
                let kept = retention.map { state.weights[l] * $0 } ?? state.weights[l]
                state.weights[l] = (anchored ? mlp.towardAnchor(kept, retention: retention, l) : kept) + state.surprise[l]
            }
        }
        let steps = gradient.indices.map { gradient[$0] * sizes.perParameter[$0].unsqueeze(-1) }  // θ_t u_t
        if let rowScale = sizes.rowScale {
            advance(&cursor.state, adding: nil, anchored: true)
            var chunkSteps = cursor.steps ?? MemoryState(zerosLike: steps)
            advance(&chunkSteps, adding: steps, anchored: false)
            (cursor.steps, cursor.rowScale) = (chunkSteps, rowScale.squeeze(-1))
        } else {
            advance(&cursor.state, adding: steps.map { -$0 }, anchored: true)
        }
        cursor.endTokens(load: sizes.load, chunkSize: chunkSize)
    }

    /// `R[i, j] = exp(Σ_{l=j+1}^{i} x_l)` for `j ≤ i`, 0 above the diagonal: the products of per-token factors
    /// between two positions of a chunk, from log factors `[B, H, c]`, summed (never divided) so zeros stay exact.
    static func segmentProducts(_ logs: Tensor) -> Tensor {
        let c = logs.shape[logs.rank - 1]
        let spread = logs.unsqueeze(-1).expand(to: logs.shape + [c])  // [.., i, j] = x_i
        let strictlyLower = Tensor.bandMask(rows: c, columns: c, lower: 1, dtype: logs.dtype)
        let lower = Tensor.bandMask(rows: c, columns: c, dtype: logs.dtype)
        let zero = Tensor.scalar(0, dtype: logs.dtype)
        let sums = Tensor.where(strictlyLower, spread, zero).cumulativeSum(axis: -2)
        return Tensor.where(lower, sums.exp(), zero)
    }
}
