import Testing
@testable import TitansNN

/// The decoding caches' buffers: appends in place equal concatenation, and never reach rows someone else can see.
@Suite("Key and value rows")
struct KeyValueRowsTests {
    private func rows(_ count: Int, seed: UInt64) -> Tensor {
        var rng = RandomGenerator(seed: seed)
        return Tensor.randomNormal([2, 3, count, 4], dtype: .float64, generator: &rng)
    }

    @Test func appendsInPlaceEqualConcatenation() {
        let first = rows(2, seed: 1), more = (2...5).map { rows(1, seed: UInt64($0)) }
        var kept = KeyValueRows(first, reserving: 4)
        let storage = kept.rows.storage
        for row in more { kept.append(row, reserving: 4) }
        #expect(kept.rows.toArray() == Tensor.concatenate([first] + more, axis: 2).toArray())
        #expect(kept.rows.storage === storage, "the four rows were not written in place")
        #expect(kept.count == 6)
    }

    /// A state copied before an append keeps its own rows, and a view taken earlier does not change.
    @Test func copiesAndEarlierViewsKeepTheirRows() {
        let first = rows(2, seed: 1), (x, y) = (rows(1, seed: 2), rows(1, seed: 3))
        var a = KeyValueRows(first, reserving: 4)
        let earlier = a.rows
        var b = a
        a.append(x)
        b.append(y)
        #expect(a.rows.toArray() == Tensor.concatenate([first, x], axis: 2).toArray())
        #expect(b.rows.toArray() == Tensor.concatenate([first, y], axis: 2).toArray())
        #expect(earlier.toArray() == first.toArray())
    }

    /// Rows that record gradients are concatenated, not written into a buffer, so the gradient reaches them.
    @Test func rowsWithGradientsAreConcatenated() {
        let first = rows(2, seed: 1), new = rows(1, seed: 2).requiringGrad()
        var kept = KeyValueRows(first, reserving: 4)
        kept.append(new, reserving: 4)
        (kept.rows * kept.rows).sum().backward()
        #expect(new.grad?.toArray() == (new * 2).toArray())
    }

    /// A window drops its oldest rows; once the buffer is full the live rows move to a fresh one.
    @Test func windowsDropAndMove() {
        let all = (0..<9).map { rows(1, seed: UInt64(10 + $0)) }
        var kept = KeyValueRows(all[0], reserving: 3)
        for t in 1..<9 {
            kept.append(all[t], reserving: 3)
            if kept.count > 3 { kept.dropFirst(kept.count - 3) }
            #expect(kept.rows.toArray() == Tensor.concatenate(Array(all[(t - 2 < 0 ? 0 : t - 2)...t]), axis: 2).toArray(), "step \(t)")
        }
    }
}
