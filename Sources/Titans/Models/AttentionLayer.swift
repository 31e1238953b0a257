import TitansNN

/// Keys and values an attention layer keeps between calls: rotated keys and values `[B, H, n, d]` of the positions
/// `keyOffset ..< position`. A sliding-window layer keeps only its window, so its cache does not grow.
public struct AttentionCache {
    var keys: Tensor?
    var values: Tensor?
    var keyOffset = 0
    /// The absolute position of the next token.
    public var position = 0
}

/// Multi-head causal self-attention with rotary positions: full (Transformer++) or over a sliding window, optionally
/// with persistent tokens every position sees (paper Eq. 27, MAG's SW-Attn*).
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
        let q = rotary(split(query(x)), offset: start)
        let k = rotary(split(key(x)), offset: start), v = split(value(x))
        let keys = cache.keys.map { Tensor.concatenate([$0, k], axis: 2) } ?? k
        let values = cache.values.map { Tensor.concatenate([$0, v], axis: 2) } ?? v
        let attended: Tensor
        if let window {
            let prefix = persistent.map { p in (split(key(p.unsqueeze(0))), split(value(p.unsqueeze(0)))) }
            attended = AttentionKernels.slidingWindow(q: q, k: keys, v: values, window: window,
                                                      persistentKeys: prefix?.0, persistentValues: prefix?.1,
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
