import Foundation

/// Softmax attention kernels composed from differentiable tensor ops (so gradients of any order flow through them).
///
/// Conventions for every kernel:
/// - `q` is `[B, H, Tq, d]`; `k` is `[B', H', Tk, d]`; `v` is `[B', H', Tk, dv]`, `k` and `v` of equal leading shape.
///   The batch/head dims of `q` and `k` broadcast against each other (as in `matmul`). The output is `[B, H, Tq, dv]`.
/// - Scores are `(q · scale) kᵀ` with `scale = 1/√d` unless given.
/// - Masked scores are replaced by ``maskedScore`` (a large finite negative) before the softmax. In a row with at least
///   one visible key its `exp` underflows to exactly 0, so such rows equal attention over the visible keys alone, and
///   the gradient through masked entries is exactly 0 (no NaN). The fast kernels never produce a fully masked row.
/// - Positions are absolute token indices; each kernel documents how its query and key rows map to positions.
///
/// Each fast kernel equals ``naive(q:k:v:mask:scale:)`` with the mask of the same name in ``AttentionMasks``
/// (tested in float64). The fast kernels bound the size of the score matrices built in the forward pass; with
/// gradient recording on, the autograd graph keeps every tile's probabilities alive until backward, so training
/// memory is the sum over tiles (still `O(N·w)` for the windowed kernel, `O(N²/2)` for causal).
///
/// ```swift
/// // q, k, v: [batch, heads, time, headWidth]
/// let full = AttentionKernels.causal(q: q, k: k, v: v)
/// let local = AttentionKernels.slidingWindow(q: q, k: k, v: v, window: 64)
/// ```
public enum AttentionKernels {
    /// The score that masked entries get: `exp(maskedScore - m)` is exactly 0 for any finite row max `m` in float32/64.
    public static let maskedScore: Double = -1e30

    // MARK: - Reference

    /// Attention with an explicit 0/1 mask: `softmax(where(mask, (q·scale) kᵀ, maskedScore)) v`.
    ///
    /// - Parameters:
    ///   - q: `[B, H, Tq, d]`.
    ///   - k: `[B', H', Tk, d]`, broadcasting with `q`'s leading dims.
    ///   - v: `[B', H', Tk, dv]`.
    ///   - mask: `nil` (all visible) or a 0/1 tensor broadcastable to `[B, H, Tq, Tk]` (usually `[Tq, Tk]`), 1 = visible.
    ///     Converted to `q`'s dtype if needed.
    ///   - scale: defaults to `1/√d`.
    ///   A row with no visible key is defined (the plain average of all values) and finite, but meaningless.
    /// - Returns: `[B, H, Tq, dv]`. Builds the full `[…, Tq, Tk]` score matrix: the reference, not for long sequences.
    public static func naive(q: Tensor, k: Tensor, v: Tensor, mask: Tensor?, scale: Double? = nil) -> Tensor {
        check(q, k, v, "naive")
        let m = mask.map { $0.dtype == q.dtype ? $0 : $0.to(q.dtype) }
        return attend(q, k, v, mask: m, scale: scale ?? defaultScale(q))
    }

    // MARK: - Causal

    /// Full causal attention, processed in query tiles.
    ///
    /// Positions: query `i` is at absolute position `queryOffset + i`, key/value `j` at position `j`; query `i` sees
    /// keys `0 ... queryOffset + i`. Full self-attention is `Tq == Tk, queryOffset = 0`; a decode step against a KV cache
    /// holding positions `0 ..< Tk` (the new token included) is `Tq = 1, queryOffset = Tk - 1`. The default
    /// `queryOffset` is `Tk - Tq` (the queries are the last `Tq` positions of the keys), which covers both.
    ///
    /// Requires `0 ≤ queryOffset` and `queryOffset + Tq ≤ Tk`.
    ///
    /// Cost: the tile of queries `[s, e)` only scores keys `0 ..< queryOffset + e`, so at most one `[tile, Tk]` score
    /// matrix exists at a time, in the forward pass and (each tile recomputed) in the backward pass; tiles are
    /// concatenated along the query axis. Equals
    /// `naive(q:k:v:mask: AttentionMasks.causal(queries: Tq, keys: Tk, queryOffset: queryOffset))`.
    ///
    /// - Returns: `[B, H, Tq, dv]`.
    public static func causal(q: Tensor, k: Tensor, v: Tensor, queryOffset: Int? = nil, tile: Int = 64,
                              scale: Double? = nil) -> Tensor {
        check(q, k, v, "causal")
        let tq = q.shape[2], tk = k.shape[2]
        let offset = queryOffset ?? (tk - tq)
        precondition(tile >= 1, "AttentionKernels.causal: tile must be ≥ 1, got \(tile)")
        precondition(offset >= 0 && offset + tq <= tk,
                     "AttentionKernels.causal: queries at positions \(offset)..<\(offset + tq) need keys up to there, have \(tk)")
        let s = scale ?? defaultScale(q)
        guard tq > 0 else { return emptyOutput(q, v) }
        var masks = MaskCache(dtype: q.dtype)
        var outputs: [Tensor] = []
        for start in stride(from: 0, to: tq, by: tile) {
            let end = Swift.min(start + tile, tq)
            let keyEnd = offset + end
            let mask = masks.band(rows: end - start, columns: keyEnd, upper: Int.max, columnOffset: offset + start)
            let inputs = [q.slice(axis: 2, start: start, end: end), k.slice(axis: 2, start: 0, end: keyEnd),
                          v.slice(axis: 2, start: 0, end: keyEnd)]
            // Several tiles: each is recomputed in the backward pass (`Tensor.checkpointed`), so training keeps no
            // `[tile, keys]` probabilities, O(Tq·Tk) in all, only the tiles' inputs and outputs.
            let tileOutput = tq > tile
                ? Tensor.checkpointed(inputs, parameters: []) { [attend($0[0], $0[1], $0[2], mask: mask, scale: s)] }[0]
                : attend(inputs[0], inputs[1], inputs[2], mask: mask, scale: s)
            outputs.append(tileOutput)
        }
        return outputs.count == 1 ? outputs[0] : Tensor.concatenate(outputs, axis: 2)
    }

    // MARK: - Sliding window with persistent prefix

    /// Causal sliding-window attention plus `Np` persistent key/value rows that every query sees (paper Eq. 27, MAG's
    /// `SW-Attn*`; with no persistent rows it is MAL's `SW-Attn`).
    ///
    /// Positions: query `i` is at absolute position `p = queryOffset + i`; key/value row `j` of `k`/`v` at
    /// `keyOffset + j`. Query `p` sees the keys at positions `p - window + 1 ... p` (`window` positions, itself
    /// included; fewer near the sequence start) and all persistent rows. Persistent rows have no position.
    ///
    /// - Full sequence: `Tq == Tk`, `queryOffset = keyOffset = 0`.
    /// - Decode with a rolling KV cache: `Tq = 1`, `queryOffset` = the new token's position, `k`/`v` the cache holding
    ///   positions `keyOffset ..< keyOffset + Tk` (the new token included), e.g. the last `window` positions with
    ///   `keyOffset = max(0, queryOffset - window + 1)`.
    /// - The default `queryOffset` is `keyOffset + Tk - Tq` (the queries are the last `Tq` key positions).
    ///
    /// Requires that `k` holds every key any query needs: `keyOffset ≤ max(0, queryOffset - window + 1)` (positions
    /// start at 0) and `queryOffset + Tq ≤ keyOffset + Tk`. Keys after the last query's position are ignored.
    ///
    /// Cost `O(Tq·(window + block))`: queries are processed in blocks of `block` (default `window`); the block of
    /// queries at positions `[a, b)` scores only `Np` persistent keys plus the keys at positions `[a - window + 1, b)`,
    /// so no `Tq × Tk` matrix is built. Equals `naive(q, persistentKeys ‖ k, persistentValues ‖ v,
    /// mask: AttentionMasks.slidingWindow(…, persistent: Np))`.
    ///
    /// - Parameters:
    ///   - q: queries `[B, H, Tq, d]`.
    ///   - k: keys `[B, H, Tk, d]`.
    ///   - v: values `[B, H, Tk, dv]`.
    ///   - persistentKeys: `nil`, or `[B' or 1, H' or 1, Np, d]`, broadcast over the batch and head dims of `k`.
    ///   - persistentValues: `[…, Np, dv]`, given with `persistentKeys`.
    ///   - window: how many positions back each query sees, itself included.
    ///   - keyOffset: the position of `k`'s first key.
    ///   - queryOffset: the position of the first query.
    ///   - scale: the factor on the scores.
    ///   - block: queries per block.
    /// - Returns: `[B, H, Tq, dv]`.
    public static func slidingWindow(q: Tensor, k: Tensor, v: Tensor, window: Int,
                                     persistentKeys: Tensor? = nil, persistentValues: Tensor? = nil,
                                     queryOffset: Int? = nil, keyOffset: Int = 0, block: Int? = nil,
                                     scale: Double? = nil) -> Tensor {
        check(q, k, v, "slidingWindow")
        let tq = q.shape[2], tk = k.shape[2]
        let qOffset = queryOffset ?? (keyOffset + tk - tq)
        precondition(window >= 1, "AttentionKernels.slidingWindow: window must be ≥ 1, got \(window)")
        let blockSize = block ?? window
        precondition(blockSize >= 1, "AttentionKernels.slidingWindow: block must be ≥ 1, got \(blockSize)")
        precondition(keyOffset >= 0 && keyOffset <= Swift.max(0, qOffset - window + 1),
                     "AttentionKernels.slidingWindow: keys start at position \(keyOffset) but the query at \(qOffset) needs keys from \(Swift.max(0, qOffset - window + 1))")
        precondition(qOffset + tq <= keyOffset + tk,
                     "AttentionKernels.slidingWindow: queries up to position \(qOffset + tq - 1) but keys end at \(keyOffset + tk - 1)")
        let s = scale ?? defaultScale(q)
        guard tq > 0 else { return emptyOutput(q, v) }
        let persistent = persistentPair(persistentKeys, persistentValues, k, v, "slidingWindow")
        var masks = MaskCache(dtype: q.dtype)
        var outputs: [Tensor] = []
        for start in stride(from: 0, to: tq, by: blockSize) {
            let end = Swift.min(start + blockSize, tq)
            // Key indices covering positions [qOffset + start - window + 1, qOffset + end).
            let keyStart = Swift.max(0, qOffset + start - window + 1 - keyOffset)
            let keyEnd = qOffset + end - keyOffset
            let keys = k.slice(axis: 2, start: keyStart, end: keyEnd), values = v.slice(axis: 2, start: keyStart, end: keyEnd)
            let mask = masks.band(rows: end - start, columns: keyEnd - keyStart, upper: window - 1,
                                  columnOffset: qOffset + start - keyOffset - keyStart)
            outputs.append(attend(q.slice(axis: 2, start: start, end: end), keys, values, mask: mask, scale: s, prefix: persistent))
        }
        return outputs.count == 1 ? outputs[0] : Tensor.concatenate(outputs, axis: 2)
    }

    // MARK: - Shared pieces

    /// `softmax(where(mask, (q·scale) kᵀ, maskedScore)) v` over the last two axes (any rank ≥ 2, batch dims broadcast);
    /// with a `prefix` (persistent rows every query sees, unmasked), `softmax([q·pkᵀ ‖ scores]) [pv ‖ v]` — the prefix
    /// joins at the scores, a few columns per query, rather than copying every key and value behind it (decoding
    /// copied the whole window per token), and its share of the weights multiplies its values apart.
    static func attend(_ q: Tensor, _ k: Tensor, _ v: Tensor, mask: Tensor?, scale: Double,
                       prefix: (keys: Tensor, values: Tensor)? = nil) -> Tensor {
        if mask == nil, let single = singleQuery(q, k, v, scale: scale, prefix: prefix) { return single }
        let scaled = q * scale
        var scores = scaled.matmul(k.transposed())
        if let mask {
            scores = Tensor.where(mask, scores, Tensor.scalar(maskedScore, dtype: scores.dtype))
        }
        guard let prefix else { return scores.softmax(axis: -1).matmul(v) }
        let np = prefix.keys.shape[2]
        let weights = Tensor.concatenate([scaled.matmul(prefix.keys.transposed()), scores], axis: -1).softmax(axis: -1)
        return weights.slice(axis: -1, start: 0, end: np).matmul(prefix.values)
            + weights.slice(axis: -1, start: np, end: weights.shape[weights.rank - 1]).matmul(v)
    }

    /// ``attend(_:_:_:mask:scale:prefix:)`` for one query per batch row and head and no mask — decoding — in plain loops
    /// over the keys and values where they lie (a cache's rows, a broadcast prefix), float32 on the CPU with no
    /// gradients recorded: per row and head the scores (q·scale)·k_j, their softmax, and Σ_j p_j v_j, through
    /// ``RowProducts``; a handful of tensor ops and per-head products become one loop. `nil` where it does not apply
    /// (then the ops run): another rank, dtype or device, gradients, more queries, or no keys.
    static func singleQuery(_ q: Tensor, _ k: Tensor, _ v: Tensor, scale: Double, prefix: (keys: Tensor, values: Tensor)?) -> Tensor? {
        guard q.rank == 4, q.shape[2] == 1, q.dtype == .float32, !GradMode.isEnabled, ComputeDevice.current == .cpu,
              ([k, v] + (prefix.map { [$0.keys, $0.values] } ?? [])).allSatisfy({ $0.rank == 4 && $0.dtype == .float32 })
        else { return nil }
        /// `t` as it lies where its rows are dense (a cache's rows, a broadcast prefix), else copied (heads split from a
        /// projection): the loops below step over batch and head by the strides.
        func dense(_ t: Tensor) -> Tensor { t.strides[3] == 1 && (t.shape[2] <= 1 || t.strides[2] == t.shape[3]) ? t : t.contiguous() }
        let parts = [dense(k), dense(v)] + (prefix.map { [dense($0.keys), dense($0.values)] } ?? [])
        let (keys, values, prefixKeys, prefixValues) = (0, 1, 2, 3)  // positions in `parts`
        let lead = broadcastLead(Array(q.shape[0..<2]), Array(k.shape[0..<2]), "attention")
        let (batch, heads, width, valueWidth) = (lead[0], lead[1], q.shape[3], v.shape[3])
        let rows = parts.map { $0.shape[2] }, count = rows[keys] + (prefix == nil ? 0 : rows[prefixKeys])
        guard count > 0 else { return nil }
        let query = (q * scale).expand(to: lead + [1, width]).contiguous()
        let out = Tensor.zeros(lead + [1, valueWidth])
        let weights = UnsafeMutablePointer<Float>.allocate(capacity: Swift.max(count, 1))
        defer { weights.deallocate() }
        Tensor.withUnsafeFloatViewPointers(parts) { p in
            Tensor.withUnsafeFloatPointers([query]) { z in
                Tensor.withUnsafeMutableFloatPointers([out]) { o in
                    for b in 0..<batch {
                        for h in 0..<heads {
                            /// Part `i`'s rows for this batch row and head (a dim of 1 broadcasts).
                            func block(_ i: Int) -> UnsafePointer<Float> {
                                let t = parts[i]
                                return p[i] + (t.shape[0] == 1 ? 0 : b * t.strides[0]) + (t.shape[1] == 1 ? 0 : h * t.strides[1])
                            }
                            let row = b * heads + h, y = o[0] + row * valueWidth
                            // Scores: the prefix's rows first, then the keys', as the concatenation orders them.
                            let first = prefix == nil ? 0 : rows[prefixKeys]
                            if prefix != nil {
                                RowProducts.rowDots(rows: first, columns: width, block(prefixKeys), z[0] + row * width, into: weights)
                            }
                            RowProducts.rowDots(rows: rows[keys], columns: width, block(keys), z[0] + row * width, into: weights + first)
                            var largest = -Float.infinity
                            for j in 0..<count { largest = Swift.max(largest, weights[j]) }
                            var total: Float = 0
                            for j in 0..<count {
                                weights[j] = Foundation.exp(weights[j] - largest)
                                total += weights[j]
                            }
                            for j in 0..<count { weights[j] /= total }
                            if prefix != nil {
                                RowProducts.weightedRows(rows: first, columns: valueWidth, weights, block(prefixValues), into: y)
                            }
                            RowProducts.weightedRows(rows: rows[values], columns: valueWidth, weights + first, block(values), into: y,
                                                     accumulate: prefix != nil)
                        }
                    }
                }
            }
        }
        return out
    }

    static func defaultScale(_ q: Tensor) -> Double { 1 / Double(q.shape[q.rank - 1]).squareRoot() }

    static func check(_ q: Tensor, _ k: Tensor, _ v: Tensor, _ op: String) {
        precondition(q.rank == 4 && k.rank == 4 && v.rank == 4,
                     "AttentionKernels.\(op): q, k, v must be [B, H, T, d], got \(q.shape), \(k.shape), \(v.shape)")
        precondition(q.shape[3] == k.shape[3], "AttentionKernels.\(op): q \(q.shape) and k \(k.shape) differ in d")
        precondition(Array(k.shape[0..<3]) == Array(v.shape[0..<3]),
                     "AttentionKernels.\(op): k \(k.shape) and v \(v.shape) differ outside the last axis")
        _ = broadcastLead(Array(q.shape[0..<2]), Array(k.shape[0..<2]), op)
    }

    static func broadcastLead(_ a: [Int], _ b: [Int], _ op: String) -> [Int] {
        zip(a, b).map { x, y in
            precondition(x == y || x == 1 || y == 1, "AttentionKernels.\(op): batch/head dims \(a) and \(b) do not broadcast")
            return Swift.max(x, y)
        }
    }

    /// Persistent keys/values expanded to the batch/head dims of `k`, or `nil` when absent or empty.
    static func persistentPair(_ pk: Tensor?, _ pv: Tensor?, _ k: Tensor, _ v: Tensor, _ op: String)
        -> (keys: Tensor, values: Tensor)? {
        precondition((pk == nil) == (pv == nil), "AttentionKernels.\(op): give persistent keys and values together")
        guard let pk, let pv else { return nil }
        precondition(pk.rank == 4 && pv.rank == 4 && pk.shape[2] == pv.shape[2] && pk.shape[3] == k.shape[3]
                     && pv.shape[3] == v.shape[3],
                     "AttentionKernels.\(op): persistent keys \(pk.shape) / values \(pv.shape) must be [B|1, H|1, Np, d] / [.., Np, dv] for k \(k.shape), v \(v.shape)")
        guard pk.shape[2] > 0 else { return nil }
        let lead = Array(k.shape[0..<2])
        for x in [pk, pv] {
            precondition(broadcastLead(lead, Array(x.shape[0..<2]), op) == lead,
                         "AttentionKernels.\(op): persistent rows \(x.shape) must broadcast to k's batch/head dims \(lead)")
        }
        return (pk.expand(to: lead + Array(pk.shape[2...])), pv.expand(to: lead + Array(pv.shape[2...])))
    }

    static func emptyOutput(_ q: Tensor, _ v: Tensor) -> Tensor {
        let lead = broadcastLead(Array(q.shape[0..<2]), Array(v.shape[0..<2]), "attention")
        return Tensor.zeros(lead + [0, v.shape[3]], dtype: q.dtype)
    }
}

/// Band masks reused across tiles of the same shape and alignment (interior tiles all share one).
struct MaskCache {
    let dtype: DType
    private var cache: [[Int]: Tensor] = [:]

    init(dtype: DType) { self.dtype = dtype }

    /// `[rows, columns]`: `bandMask(lower: 0, upper: upper, columnOffset:)`; `nil` when every entry is visible (no
    /// masking needed).
    mutating func band(rows: Int, columns: Int, upper: Int, columnOffset: Int) -> Tensor? {
        // i - j + columnOffset over the block ranges from columnOffset - (columns - 1) to rows - 1 + columnOffset.
        if columnOffset - (columns - 1) >= 0 && rows - 1 + columnOffset <= upper { return nil }
        let key = [rows, columns, upper, columnOffset]
        if let cached = cache[key] { return cached }
        let mask = Tensor.bandMask(rows: rows, columns: columns, lower: 0, upper: upper, columnOffset: columnOffset,
                                   dtype: dtype)
        cache[key] = mask
        return mask
    }
}
