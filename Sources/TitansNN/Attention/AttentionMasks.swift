/// 0/1 masks (1 = visible) for the attention patterns of ``AttentionKernels``, used as the `mask` of
/// ``AttentionKernels/naive(q:k:v:mask:scale:)`` to build the reference each fast kernel is tested against.
///
/// Every mask is `[queries, keys]` and broadcasts over `[B, H]`. Positions are absolute: query `i` sits at
/// `queryOffset + i`, key `j` at `keyOffset + j` (unless stated otherwise).
///
/// ```swift
/// let mask = AttentionMasks.causal(queries: 8, keys: 8, queryOffset: 0)   // 0 where allowed, −∞ elsewhere
/// let y = AttentionKernels.naive(q: q, k: k, v: v, mask: mask)
/// ```
public enum AttentionMasks {
    /// Causal: `mask[i, j] = 1` iff `j ≤ queryOffset + i` (keys at positions `0 ..< keys`).
    /// Shape `[queries, keys]`. The mask of ``AttentionKernels/causal(q:k:v:queryOffset:tile:scale:)``.
    public static func causal(queries: Int, keys: Int, queryOffset: Int, dtype: DType = .float32) -> Tensor {
        Tensor.bandMask(rows: queries, columns: keys, columnOffset: queryOffset, dtype: dtype)
    }

    /// Sliding window with a persistent prefix: shape `[queries, persistent + keys]`.
    ///
    /// The first `persistent` columns (persistent keys) are visible to every query. Column `persistent + j` is key `j`
    /// at absolute position `keyOffset + j`; query `i` at position `p = queryOffset + i` sees it iff
    /// `p - window + 1 ≤ keyOffset + j ≤ p`. The mask of
    /// ``AttentionKernels/slidingWindow(q:k:v:window:persistentKeys:persistentValues:queryOffset:keyOffset:block:scale:)``
    /// with keys `persistentKeys ‖ k`.
    public static func slidingWindow(queries: Int, keys: Int, window: Int, queryOffset: Int, keyOffset: Int = 0,
                                     persistent: Int = 0, dtype: DType = .float32) -> Tensor {
        precondition(window >= 1, "AttentionMasks.slidingWindow: window must be ≥ 1, got \(window)")
        let band = Tensor.bandMask(rows: queries, columns: keys, lower: 0, upper: window - 1,
                                   columnOffset: queryOffset - keyOffset, dtype: dtype)
        guard persistent > 0 else { return band }
        return Tensor.concatenate([Tensor.ones([queries, persistent], dtype: dtype), band], axis: 1)
    }
}
