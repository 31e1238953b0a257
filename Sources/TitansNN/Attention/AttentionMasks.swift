/// 0/1 masks (1 = visible) for the attention patterns of ``AttentionKernels``, used as the `mask` of
/// ``AttentionKernels/naive(q:k:v:mask:scale:)`` to build the reference each fast kernel is tested against.
///
/// Every mask is `[queries, keys]` and broadcasts over `[B, H]`. Positions are absolute: query `i` sits at
/// `queryOffset + i`, key `j` at `keyOffset + j` (unless stated otherwise).
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

    /// Segmented (Titans MAC) over a whole sequence of `length` tokens split into segments of `segment` tokens
    /// (token `i` is in segment `i / segment`; the last segment may be shorter), `S = ⌈length / segment⌉` segments.
    ///
    /// Columns, in order (the key layout of the naive reference):
    /// 1. `S · prefix` prefix columns, segment `s`'s block at `s·prefix ..< (s+1)·prefix`: visible to every token of
    ///    segment `s`, to no other token;
    /// 2. when `aligned`, `length` aligned columns: column `j` visible to token `i` iff same segment and `j ≤ i`;
    /// 3. `length` token columns: column `j` visible to token `i` iff same segment and `j ≤ i`.
    ///
    /// Shape `[length, S·prefix + (aligned ? 2 : 1)·length]`. The mask of
    /// ``AttentionKernels/segmented(q:k:v:segment:prefixKeys:prefixValues:alignedKeys:alignedValues:scale:)``.
    public static func segmented(length: Int, segment: Int, prefix: Int, aligned: Bool = false,
                                 dtype: DType = .float32) -> Tensor {
        precondition(segment >= 1, "AttentionMasks.segmented: segment must be ≥ 1, got \(segment)")
        let segments = (length + segment - 1) / segment
        let prefixColumns = segments * prefix
        let tokenBlocks = aligned ? 2 : 1
        let columns = prefixColumns + tokenBlocks * length
        return Tensor(shape: [length, columns], generating: { index in
            let i = index / columns, c = index % columns
            if c < prefixColumns { return c / prefix == i / segment ? 1 : 0 }
            let j = (c - prefixColumns) % length
            return j / segment == i / segment && j <= i ? 1 : 0
        }, dtype: dtype)
    }
}
