import Synchronization
import TitansTensor

/// Keys or values `[B, H, n, d]` an attention layer keeps between decoding calls, in a buffer with room for more rows:
/// a token's rows are written in place instead of the whole cache being copied for every token.
///
/// A row is written in place only into room no ``rows`` view covers, only where nothing records gradients through it,
/// and only by the first state to claim that room: copies of a state share its buffer (a stream's caller keeps the
/// state it passed in), so the buffer counts the rows written to it, and a copy that appends after another has
/// appended — its rows no longer end where the buffer's do — moves to a fresh buffer. Otherwise an append copies, as
/// a concatenation would.
///
/// ```swift
/// var keys = KeyValueRows(k, reserving: 63)   // k [1, 4, 1, 64], room for 63 more rows
/// keys.append(nextKey, reserving: 62)         // written in place
/// let all = keys.rows                         // [1, 4, 2, 64], a view of the buffer
/// ```
public struct KeyValueRows {
    private var buffer: Tensor
    /// Rows of the buffer written so far, by whichever state sharing it.
    private var written: WrittenRows
    /// The live rows are `start ..< start + count` of the buffer.
    private var start = 0
    public private(set) var count: Int

    public init(_ rows: Tensor, reserving extra: Int = 0) {
        buffer = Self.buffer(holding: rows, reserving: extra)
        count = rows.shape[2]
        written = WrittenRows(count)
    }

    /// The live rows `[B, H, count, d]`.
    public var rows: Tensor {
        start == 0 && count == buffer.shape[2] ? buffer : buffer.slice(axis: 2, start: start, end: start + count)
    }

    /// Appends `new` `[B, H, n, d]`: in place when there is room, or else into a fresh buffer with room for `extra`
    /// rows more.
    public mutating func append(_ new: Tensor, reserving extra: Int = 0) {
        let end = start + count, n = new.shape[2]
        if end + n <= buffer.shape[2], !new.requiresGrad, !buffer.requiresGrad,
           written.rows.compareExchange(expected: end, desired: end + n, ordering: .relaxed).exchanged {
            buffer.slice(axis: 2, start: end, end: end + n).assign(new)
        } else {
            buffer = Self.buffer(holding: Tensor.concatenate([rows, new], axis: 2), reserving: extra)
            start = 0
            written = WrittenRows(count + n)
        }
        count += n
    }

    /// Forgets the oldest `k` live rows (a sliding window's).
    public mutating func dropFirst(_ k: Int) {
        precondition(k >= 0 && k <= count, "KeyValueRows.dropFirst: \(k) of \(count) rows")
        start += k
        count -= k
    }

    /// `rows` with room for `extra` more behind them; `rows` itself when no room is asked for or gradients flow
    /// through it (a buffer written in place cannot record them).
    private static func buffer(holding rows: Tensor, reserving extra: Int) -> Tensor {
        guard extra > 0, !rows.requiresGrad else { return rows }
        var shape = rows.shape
        shape[2] += extra
        let buffer = Tensor.zeros(shape, dtype: rows.dtype)
        buffer.slice(axis: 2, start: 0, end: rows.shape[2]).assign(rows)
        return buffer
    }
}

/// How many rows of a ``KeyValueRows`` buffer have been written, shared by the states that share the buffer.
private final class WrittenRows: Sendable {
    let rows: Atomic<Int>
    init(_ rows: Int) { self.rows = Atomic(rows) }
}
