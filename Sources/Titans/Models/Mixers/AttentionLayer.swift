import TitansNN

/// Keys and values an attention layer keeps between calls: rotated keys and values `[B, H, n, d]` of the positions
/// `keyOffset ..< position`. A sliding-window layer keeps only its window, so its cache does not grow.
///
/// ```swift
/// let (y, cache) = attention(x, state: nil)
/// let (next, _) = attention(oneToken, state: cache)   // keys and values of the window kept
/// ```
public struct AttentionCache: MixerState {
    var keys: Tensor?
    var values: Tensor?
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
/// token itself, in the order the tokens came — so that a token's step appends its pair to one tensor each.
///
/// ```swift
/// let (y, cache) = layer.segment(x, retrieved: h, position: 0, cache: nil, persistent: nil, projected: &kept)
/// ```
public struct SegmentCache {
    var keys: Tensor
    var values: Tensor
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
    /// the segment's tokens causally. `cache` holds the segment's earlier tokens; `nil` starts a segment. `projected`
    /// keeps the persistent tokens' keys and values from one call to the next.
    public func segment(_ x: Tensor, retrieved: Tensor, position: Int, cache: SegmentCache?, persistent: Tensor?,
                        projected: inout PersistentProjection?) -> (Tensor, SegmentCache) {
        let (batch, n) = (x.shape[0], x.shape[1])
        let angles = rotary.angleTables(offset: position, count: n, dtype: x.dtype)
        let q = RotaryEmbedding.rotate(split(query(x)), angles: angles)
        let start = cache ?? {  // a new segment: the persistent tokens first
            guard let persistent else { return nil }
            let prefix = project(persistent, kept: projected)
            projected = prefix
            func expanded(_ t: Tensor) -> Tensor { t.expand(to: [batch, t.shape[1], t.shape[2], t.shape[3]]) }
            return SegmentCache(keys: expanded(prefix.keys), values: expanded(prefix.values), persistentCount: persistent.shape[0])
        }()
        /// `earlier` followed by each token's retrieved row and its own row (one copy: a single token's pair is
        /// appended as it is, more tokens' pairs are interleaved first).
        func appending(_ earlier: Tensor?, _ memoryTokens: Tensor, _ tokens: Tensor) -> Tensor {
            var parts = [memoryTokens, tokens]
            if n > 1 {
                let joined = Tensor.concatenate([memoryTokens.unsqueeze(3), tokens.unsqueeze(3)], axis: 3)  // [B, H, n, 2, d]
                parts = [joined.reshape([batch, heads, 2 * n, joined.shape[4]])]
            }
            return Tensor.concatenate((earlier.map { [$0] } ?? []) + parts, axis: 2)
        }
        let segment = SegmentCache(
            keys: appending(start?.keys, RotaryEmbedding.rotate(split(key(retrieved)), angles: angles),
                            RotaryEmbedding.rotate(split(key(x)), angles: angles)),
            values: appending(start?.values, split(value(retrieved)), split(value(x))),
            persistentCount: start?.persistentCount ?? 0)
        let seen = (segment.keys.shape[2] - segment.persistentCount) / 2  // tokens of this segment so far, the new ones last
        // Query i (segment offset seen − n + i) sees every persistent token and the pairs of tokens up to its own
        // offset; one query (decoding) sees every key and needs no mask.
        var mask: Tensor? = nil
        if n > 1 {
            let causal = Tensor.bandMask(rows: n, columns: seen, columnOffset: seen - n, dtype: x.dtype)
            let paired = causal.unsqueeze(-1).expand(to: [n, seen, 2]).reshape([n, 2 * seen])
            mask = segment.persistentCount == 0 ? paired
                : Tensor.concatenate([Tensor.ones([n, segment.persistentCount], dtype: x.dtype), paired], axis: 1)
        }
        let attended = AttentionKernels.naive(q: q, k: segment.keys, v: segment.values, mask: mask)
        return (output(merge(attended)), segment)
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
        let keys = cache.keys.map { Tensor.concatenate([$0, k], axis: 2) } ?? k
        let values = cache.values.map { Tensor.concatenate([$0, v], axis: 2) } ?? v
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
        cache.keys = keys.slice(axis: 2, start: drop, end: keys.shape[2])
        cache.values = values.slice(axis: 2, start: drop, end: values.shape[2])
        cache.keyOffset = keepFrom
        cache.position = end
        return (output(merge(attended)), cache)
    }
}
