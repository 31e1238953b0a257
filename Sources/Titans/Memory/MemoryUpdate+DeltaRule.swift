import TitansNN

extension MemoryUpdate {
    /// Most tokens the exact form solves at once. Its solve forms powers of the block's key matrix L whose entries
    /// grow binomially with the block when keys align (C(14, 7) ≈ 3.4e3 at 16, 4.7e17 at 64), so longer chunks are
    /// taken in blocks of this many (the result does not depend on the blocks).
    static let exactBlockLimit = 16

    /// Form 5, the exact online rule (form 1: every gradient at the memory the previous token left) in parallel blocks,
    /// for a matrix memory under the squared error with plain steps and no momentum: the delta rule, gated by retention
    /// (DeltaNet, Gated DeltaNet; NeuralMemoryForms.md "The exact delta rule in blocks"). `atRetained`: each error at
    /// the memory after the token's own forgetting, γ_t/γ_{t−1} W_{t−1} (Gated DeltaNet's order), not at W_{t−1}
    /// (Eq. 13's). Continues from `cursor`, which the exact form only ever leaves at a boundary.
    static func exactDeltaRule(_ stream: MemoryStream, _ cursor: MemoryCursor, blockSize: Int,
                               atRetained: Bool = false) -> (Tensor, MemoryCursor) {
        let (grouped, start, groupEnd) = checkpointedGroups(stream, cursor.settled, chunkSize: blockSize,
                                                            parameters: []) { group, state in
            exactDeltaRule(group, state, blockSize: blockSize, atRetained: atRetained)
        }
        guard start < stream.length else { return (Tensor.concatenate(grouped, axis: 2), groupEnd) }
        let (read, end) = exactDeltaRule(stream.slice(start..<stream.length), groupEnd.state, blockSize: blockSize,
                                         atRetained: atRetained)
        return (grouped.isEmpty ? read : Tensor.concatenate(grouped + [read], axis: 2), MemoryCursor(start: end))
    }

    /// `stream` block by block from `state`: the reads and the memory after the last token.
    private static func exactDeltaRule(_ stream: MemoryStream, _ state: MemoryState, blockSize: Int,
                                       atRetained: Bool) -> (Tensor, MemoryState) {
        var (reads, state, start) = ([Tensor](), state, 0)
        while start < stream.length {
            let end = min(stream.length, start + blockSize)
            let read: Tensor
            (read, state) = exactBlock(stream.slice(start..<end), state, atRetained: atRetained)
            reads.append(read)
            start = end
        }
        return (reads.count == 1 ? reads[0] : Tensor.concatenate(reads, axis: 2), state)
    }

    /// One block of n tokens from the matrix memory W (NeuralMemoryForms.md "The exact delta rule in blocks"). With
    /// β_t = 2θ_t (the squared error's gradient is 2 k_tᵀ(k_t W_{t−1} − v_t)), γ_t the retention from the block's start to
    /// token t and u_t = v_t − k_t W_{t−1} each token's error at the memory its predecessor left:
    ///   W_t = γ_t W + Σ_{s ≤ t} (γ_t/γ_s) β_s k_sᵀ u_s          (Eqs. 13–14 unrolled, no momentum),
    ///   (I + L) U = V − γ_{t−1} (K W),   L[t, s] = (γ_{t−1}/γ_s) β_s k_t·k_s for s < t,
    ///   y_t = γ_t q_t W + Σ_{s ≤ t} (γ_t/γ_s) β_s (q_t·k_s) u_s   (Eq. 15, read from W_t).
    /// `atRetained` (Gated DeltaNet's order): u_t = v_t − k_t (γ_t/γ_{t−1}) W_{t−1}, so γ_t and γ_t/γ_s take the place of
    /// γ_{t−1} and γ_{t−1}/γ_s in the solve; the memory and reads keep their form.
    private static func exactBlock(_ block: MemoryStream, _ state: MemoryState, atRetained: Bool) -> (Tensor, MemoryState) {
        let n = block.length, dtype = block.keys.dtype, w = state.weights[0]
        let retention = block.logRetention.map(segmentProducts)  // R[t, s] = γ_t/γ_s for s ≤ t
        // The retention from s to the memory token t's error is taken at, for s < t: R[t, s] itself at the retained
        // memory, else R[t − 1, s] (the rows of R moved one down); without forgetting the strict lower triangle.
        let errorRetention = retention.map { r in
            atRetained ? r.lowerTriangle(diagonal: -1)
                : r.padded(axis: r.rank - 2, before: 1, after: 0).slice(axis: -2, start: 0, end: n)
        } ?? Tensor.bandMask(rows: n, columns: n, lower: 1, dtype: dtype)
        let logGamma = block.logRetention.map { $0.cumulativeSum(axis: -1) }  // log γ_t
        let gamma = logGamma.map { $0.exp().unsqueeze(-1) }  // [B, H, n, 1]
        // γ_t at the retained memory, else γ_{t−1}: how much of W the memory each error is taken at keeps.
        let errorGamma = atRetained ? gamma : logGamma.flatMap { g in block.logRetention.map { (g - $0).exp().unsqueeze(-1) } }

        let weighted = block.keys * (block.learningRate * 2).unsqueeze(-1)  // β_s k_s
        let weightedT = weighted.transposed()
        let l = block.keys.matmul(weightedT) * errorRetention
        let known = block.keys.matmul(w)
        let errors = solveUnitLower(l, block.values - (errorGamma.map { known * $0 } ?? known))  // U

        let scores = block.queries.matmul(weightedT) * (retention ?? Tensor.bandMask(rows: n, columns: n, dtype: dtype))
        let carriedReads = block.queries.matmul(w)
        let reads = scores.matmul(errors) + (gamma.map { carriedReads * $0 } ?? carriedReads)

        let lastWeights = retention.map { weighted * $0.select(axis: -2, index: n - 1).unsqueeze(-1) } ?? weighted
        let carried = gamma.map { w * $0.select(axis: -2, index: n - 1).unsqueeze(-1) } ?? w  // γ_n W
        let weights = carried + lastWeights.transposed().matmul(errors)
        // The last token's step, S = −θ∇ℓ = β kᵀu: the surprise the reference leaves (read by nothing without momentum).
        func last(_ t: Tensor) -> Tensor { t.slice(axis: -2, start: n - 1, end: n) }
        let surprise = last(weighted).transposed().matmul(last(errors))
        return (reads, MemoryState(weights: [weights], surprise: [surprise]))
    }

    /// X = (I + L)⁻¹ B for L strictly lower triangular `[…, n, n]`: L is nilpotent (Lⁿ = 0), so
    /// (I + L)⁻¹ = Σ_{j<n} (−L)^j = (I + P)(I + P²)(I + P⁴)… with P = −L, log₂ n squarings and as many products with B,
    /// all matmuls (and differentiable as they are).
    static func solveUnitLower(_ l: Tensor, _ b: Tensor) -> Tensor {
        let n = l.shape[l.rank - 1]
        var power = -l
        var solved = b + power.matmul(b)
        var covered = 2  // powers below `covered` are in `solved`
        while covered < n {
            power = power.matmul(power)
            solved = solved + power.matmul(solved)
            covered *= 2
        }
        return solved
    }
}
