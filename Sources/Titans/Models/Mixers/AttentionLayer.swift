import TitansNN

/// Keys and values an attention layer keeps between calls: rotated keys and values `[B, H, n, d]` of the positions
/// `keyOffset ..< position`. A sliding-window layer keeps only its window, so its cache does not grow.
///
/// ```swift
/// let (y, cache) = attention(x, state: nil)
/// let (next, _) = attention(oneToken, state: cache)   // keys and values of the window kept
/// ```
public struct AttentionCache: MixerState {
    var keys: KeyValueRows?
    var values: KeyValueRows?
    /// The persistent tokens' keys and values, projected at the stream's first call.
    var persistent: PersistentProjection?
    var keyOffset = 0
    /// The absolute position of the next token.
    public var position = 0
}

/// The persistent tokens' keys and values `[1, H, Np, d]` (no position): they depend on the weights alone, so a stream
/// projects them once and keeps them in its state.
public struct PersistentProjection {
    var keys: Tensor
    var values: Tensor
}

/// What MAC's attention keeps within a segment (paper Eqs. 22–23): the keys and values `[B, H, n, d]` its queries
/// attend over — the persistent tokens', then each token's pair, the rotated retrieved memory token and the rotated
/// token itself, in the order the tokens came — so that a token's step appends its pair to one buffer each.
///
/// ```swift
/// var cache: SegmentCache? = nil
/// let y = layer.segment(x, retrieved: h, position: 0, cache: &cache, room: 0, persistent: nil, projected: &kept)
/// ```
public struct SegmentCache {
    var keys: KeyValueRows
    var values: KeyValueRows
    /// Persistent tokens at the front.
    var persistentCount: Int
}

/// Multi-head causal self-attention with rotary positions: full (Transformer++) or over a sliding window, optionally
/// with persistent tokens every position sees (paper Eq. 27, MAG's SW-Attn*).
///
/// ```swift
/// let attention = AttentionLayer(width: 256, heads: 4, window: 64, dtype: .float32, generator: &rng)
/// let (y, cache) = attention(x, cache: nil)
/// ```
public final class AttentionLayer: Module {
    public let query: Linear
    public let key: Linear
    public let value: Linear
    public let output: Linear
    let heads: Int
    let window: Int?
    let rotary: RotaryEmbedding

    public init(width: Int, heads: Int, window: Int?, dtype: DType, generator: inout RandomGenerator) {
        query = Linear(width, width, bias: false, dtype: dtype, generator: &generator)
        key = Linear(width, width, bias: false, dtype: dtype, generator: &generator)
        value = Linear(width, width, bias: false, dtype: dtype, generator: &generator)
        output = Linear(width, width, bias: false, dtype: dtype, generator: &generator)
        self.heads = heads
        self.window = window
        rotary = RotaryEmbedding(dimension: width / heads)
    }

    /// Attention within one segment, as MAC uses it (paper Eqs. 22–23): queries from `x` `[B, n, D]` at absolute
    /// positions `position ..<` see every persistent token (no position), the `retrieved` tokens `[B, n, D]` — one per
    /// token of `x`, at that token's position, token i seeing those of itself and the segment's earlier tokens — and
    /// the segment's tokens causally. `cache` holds the segment's earlier tokens (`nil` starts a segment) and takes
    /// these; `room` is how many tokens the segment has left after them, whose pairs its buffers keep room for.
    /// `projected` keeps the persistent tokens' keys and values from one call to the next.
    public func segment(_ x: Tensor, retrieved: Tensor, position: Int, cache: inout SegmentCache?, room: Int, persistent: Tensor?,
                        projected: inout PersistentProjection?) -> Tensor {
        let (batch, n) = (x.shape[0], x.shape[1])
        let angles = rotary.angleTables(offset: position, count: n, dtype: x.dtype)
        let q = RotaryEmbedding.rotate(split(query(x)), angles: angles)
        let reserve = 2 * (n + room)  // rows for this call's pairs and those of the tokens the segment has left
        if cache == nil, let persistent {  // a new segment: the persistent tokens first
            let prefix = project(persistent, kept: projected)
            projected = prefix
            func expanded(_ t: Tensor) -> KeyValueRows {
                KeyValueRows(t.expand(to: [batch, t.shape[1], t.shape[2], t.shape[3]]), reserving: reserve)
            }
            cache = SegmentCache(keys: expanded(prefix.keys), values: expanded(prefix.values), persistentCount: persistent.shape[0])
        }
        /// Each token's retrieved row, then its own: one token's pair appended as two rows, more tokens' interleaved.
        func pairs(_ memoryTokens: Tensor, _ tokens: Tensor) -> [Tensor] {
            guard n > 1 else { return [memoryTokens, tokens] }
            let joined = Tensor.concatenate([memoryTokens.unsqueeze(3), tokens.unsqueeze(3)], axis: 3)  // [B, H, n, 2, d]
            return [joined.reshape([batch, heads, 2 * n, joined.shape[4]])]
        }
        let keys = pairs(RotaryEmbedding.rotate(split(key(retrieved)), angles: angles), RotaryEmbedding.rotate(split(key(x)), angles: angles))
        for (k, v) in zip(keys, pairs(split(value(retrieved)), split(value(x)))) {
            if cache == nil {
                cache = SegmentCache(keys: KeyValueRows(k, reserving: reserve), values: KeyValueRows(v, reserving: reserve), persistentCount: 0)
            } else {
                cache?.keys.append(k, reserving: reserve)
                cache?.values.append(v, reserving: reserve)
            }
        }
        guard let segment = cache else { return x }  // set just above
        let seen = (segment.keys.count - segment.persistentCount) / 2  // tokens of this segment so far, the new ones last
        // Query i (segment offset seen − n + i) sees every persistent token and the pairs of tokens up to its own
        // offset; one query (decoding) sees every key and needs no mask.
        var mask: Tensor? = nil
        if n > 1 {
            let causal = Tensor.bandMask(rows: n, columns: seen, columnOffset: seen - n, dtype: x.dtype)
            let paired = causal.unsqueeze(-1).expand(to: [n, seen, 2]).reshape([n, 2 * seen])
            mask = segment.persistentCount == 0 ? paired
                : Tensor.concatenate([Tensor.ones([n, segment.persistentCount], dtype: x.dtype), paired], axis: 1)
        }
        let attended = AttentionKernels.naive(q: q, k: segment.keys.rows, v: segment.values.rows, mask: mask)
        return output(merge(attended))
    }

    /// The persistent tokens `[Np, D]` projected to keys and values, or `kept` where a stream already did.
    func project(_ persistent: Tensor, kept: PersistentProjection?) -> PersistentProjection {
        kept ?? PersistentProjection(keys: split(key(persistent.unsqueeze(0))), values: split(value(persistent.unsqueeze(0))))
    }

    /// `[B, T, D]` → `[B, H, T, D/H]`.
    func split(_ t: Tensor) -> Tensor {
        t.reshape([t.shape[0], t.shape[1], heads, t.shape[2] / heads]).permute([0, 2, 1, 3])
    }

    /// `[B, H, T, d]` → `[B, T, H·d]`.
    func merge(_ t: Tensor) -> Tensor {
        let p = t.permute([0, 2, 1, 3])
        return p.reshape([p.shape[0], p.shape[1], p.shape[2] * p.shape[3]])
    }

    /// Attends `x` `[B, T, D]` (positions `cache.position ..<`) over the cached and new keys; `persistent` `[Np, D]`
    /// tokens (no position) are visible to every query.
    public func callAsFunction(_ x: Tensor, cache: AttentionCache?, persistent: Tensor? = nil) -> (Tensor, AttentionCache) {
        var cache = cache ?? AttentionCache()
        let start = cache.position, count = x.shape[1]
        let angles = rotary.angleTables(offset: start, count: count, dtype: x.dtype)  // once for the queries and the keys
        let q = RotaryEmbedding.rotate(split(query(x)), angles: angles)
        let k = RotaryEmbedding.rotate(split(key(x)), angles: angles), v = split(value(x))
        // Room for a window more (full attention: as many rows again as it keeps), so decoding appends in place and a
        // window's rows move to the front of a fresh buffer once per window.
        let room = window ?? Swift.max(count, cache.keys?.count ?? 0)
        if cache.keys == nil {
            (cache.keys, cache.values) = (KeyValueRows(k, reserving: room), KeyValueRows(v, reserving: room))
        } else {
            cache.keys?.append(k, reserving: room)
            cache.values?.append(v, reserving: room)
        }
        guard let keys = cache.keys?.rows, let values = cache.values?.rows else { return (x, cache) }  // set just above
        let attended: Tensor
        if let window {
            let prefix = persistent.map { project($0, kept: cache.persistent) }
            cache.persistent = prefix
            attended = AttentionKernels.slidingWindow(q: q, k: keys, v: values, window: window,
                                                      persistentKeys: prefix?.keys, persistentValues: prefix?.values,
                                                      queryOffset: start, keyOffset: cache.keyOffset)
        } else {
            attended = AttentionKernels.causal(q: q, k: keys, v: values, queryOffset: start - cache.keyOffset)
        }
        // Keep what later queries can see: everything for full attention, the last window − 1 positions otherwise.
        let end = start + count
        let keepFrom = window.map { max(cache.keyOffset, end - ($0 - 1)) } ?? cache.keyOffset
        let drop = keepFrom - cache.keyOffset
        cache.keys?.dropFirst(drop)
        cache.values?.dropFirst(drop)
        cache.keyOffset = keepFrom
        cache.position = end
        return (output(merge(attended)), cache)
    }
}
