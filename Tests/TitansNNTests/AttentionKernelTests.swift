import Foundation
import Testing
@testable import TitansNN

// MARK: - Helpers

private func normal(_ shape: [Int], seed: UInt64, dtype: DType = .float64) -> Tensor {
    var rng = RandomGenerator(seed: seed)
    return Tensor.randomNormal(shape, dtype: dtype, generator: &rng)
}

private func maxAbsDifference(_ a: Tensor, _ b: Tensor) -> Double {
    precondition(a.shape == b.shape, "shapes differ: \(a.shape) vs \(b.shape)")
    return zip(a.toArray(), b.toArray()).reduce(0) { Swift.max($0, Swift.abs($1.0 - $1.1)) }
}

private func allFinite(_ t: Tensor) -> Bool { t.toArray().allSatisfy(\.isFinite) }

/// Attention by explicit loops: `visible(i, j)` decides which keys query `i` sees (same for every batch and head).
private func loopAttention(_ q: Tensor, _ k: Tensor, _ v: Tensor, scale: Double, visible: (Int, Int) -> Bool) -> [Double] {
    let (b, h, tq, d) = (q.shape[0], q.shape[1], q.shape[2], q.shape[3])
    let tk = k.shape[2], dv = v.shape[3]
    var out: [Double] = []
    for bi in 0..<b {
        for hi in 0..<h {
            let kb = k.shape[0] == 1 ? 0 : bi, kh = k.shape[1] == 1 ? 0 : hi
            for i in 0..<tq {
                var scores: [Double] = []
                var keys: [Int] = []
                for j in 0..<tk where visible(i, j) {
                    var s = 0.0
                    for c in 0..<d { s += q[bi, hi, i, c] * k[kb, kh, j, c] }
                    scores.append(s * scale)
                    keys.append(j)
                }
                let m = scores.max()!
                let e = scores.map { Foundation.exp($0 - m) }
                let z = e.reduce(0, +)
                for c in 0..<dv {
                    var acc = 0.0
                    for (w, j) in zip(e, keys) { acc += w / z * v[kb, kh, j, c] }
                    out.append(acc)
                }
            }
        }
    }
    return out
}

/// The naive references of the fast kernels: keys laid out as the matching ``AttentionMasks`` expects.
private enum Reference {
    static func causal(_ q: Tensor, _ k: Tensor, _ v: Tensor, queryOffset: Int) -> Tensor {
        AttentionKernels.naive(q: q, k: k, v: v, mask: AttentionMasks.causal(
            queries: q.shape[2], keys: k.shape[2], queryOffset: queryOffset, dtype: .float64))
    }

    static func slidingWindow(_ q: Tensor, _ k: Tensor, _ v: Tensor, window: Int, pk: Tensor?, pv: Tensor?,
                              queryOffset: Int, keyOffset: Int = 0) -> Tensor {
        var keys = k, values = v, np = 0
        if let pk, let pv {
            np = pk.shape[2]
            let lead = Array(k.shape[0..<2])
            keys = Tensor.concatenate([pk.expand(to: lead + [np, k.shape[3]]), k], axis: 2)
            values = Tensor.concatenate([pv.expand(to: lead + [np, v.shape[3]]), v], axis: 2)
        }
        let mask = AttentionMasks.slidingWindow(queries: q.shape[2], keys: k.shape[2], window: window,
                                                queryOffset: queryOffset, keyOffset: keyOffset, persistent: np,
                                                dtype: .float64)
        return AttentionKernels.naive(q: q, k: keys, v: values, mask: mask)
    }
}

private let tight = 1e-12

// MARK: - Masks and the naive reference

@Suite("Attention masks and naive reference")
struct AttentionReferenceTests {
    @Test func maskBuildersMatchTheirDefinitions() {
        let causal = AttentionMasks.causal(queries: 4, keys: 7, queryOffset: 3, dtype: .float64)
        for i in 0..<4 { for j in 0..<7 { #expect(causal[i, j] == (j <= 3 + i ? 1 : 0)) } }

        let (w, qo, ko, np) = (3, 5, 2, 2)
        let sliding = AttentionMasks.slidingWindow(queries: 4, keys: 8, window: w, queryOffset: qo, keyOffset: ko,
                                                   persistent: np, dtype: .float64)
        #expect(sliding.shape == [4, 10])
        for i in 0..<4 {
            for c in 0..<10 {
                let expected: Bool
                if c < np { expected = true } else {
                    let p = qo + i, key = ko + c - np
                    expected = key <= p && key >= p - w + 1
                }
                #expect(sliding[i, c] == (expected ? 1 : 0), "row \(i) column \(c)")
            }
        }
    }

    @Test func naiveEqualsLoopsWithAnArbitraryMask() {
        let q = normal([2, 3, 5, 4], seed: 1), k = normal([2, 3, 6, 4], seed: 2), v = normal([2, 3, 6, 3], seed: 3)
        // A pseudo-random mask with key (i + 1) % 6 always visible.
        let visible: (Int, Int) -> Bool = { i, j in j == (i + 1) % 6 || (i * 7 + j * 3) % 5 < 2 }
        let mask = Tensor(shape: [5, 6], generating: { visible($0 / 6, $0 % 6) ? 1 : 0 }, dtype: .float64)
        let out = AttentionKernels.naive(q: q, k: k, v: v, mask: mask)
        let expected = loopAttention(q, k, v, scale: 0.5, visible: visible)
        #expect(out.shape == [2, 3, 5, 3])
        #expect(zip(out.toArray(), expected).allSatisfy { Swift.abs($0 - $1) < tight })

        let full = AttentionKernels.naive(q: q, k: k, v: v, mask: nil, scale: 0.3)
        let expectedFull = loopAttention(q, k, v, scale: 0.3) { _, _ in true }
        #expect(zip(full.toArray(), expectedFull).allSatisfy { Swift.abs($0 - $1) < tight })
    }

    @Test func naiveBroadcastsKeysOverBatchAndAcceptsAFloat32Mask() {
        let q = normal([2, 2, 4, 3], seed: 4), k = normal([1, 2, 4, 3], seed: 5), v = normal([1, 2, 4, 3], seed: 6)
        let out = AttentionKernels.naive(q: q, k: k, v: v, mask: Tensor.causalMask(4))
        let expected = loopAttention(q, k, v, scale: 1 / 3.0.squareRoot()) { i, j in j <= i }
        #expect(zip(out.toArray(), expected).allSatisfy { Swift.abs($0 - $1) < tight })
    }

    @Test func maskedEntriesGiveExactZeroGradientsAndNoNaN() {
        let q = normal([1, 2, 4, 3], seed: 7).requiringGrad()
        let k = normal([1, 2, 4, 3], seed: 8).requiringGrad()
        let v = normal([1, 2, 4, 3], seed: 9).requiringGrad()
        // Row 0 fully masked: defined (uniform over keys), finite.
        let mask = Tensor(shape: [4, 4], generating: { $0 / 4 > 0 && $0 % 4 <= $0 / 4 ? 1 : 0 }, dtype: .float64)
        let out = AttentionKernels.naive(q: q, k: k, v: v, mask: mask)
        #expect(allFinite(out))
        let grads = Tensor.gradients(of: out.sum(), withRespectTo: [q, k, v])
        #expect(grads.allSatisfy(allFinite))
        // The last key is visible only to row 3; with a causal mask its value gradient is the row-3 weight sum only.
        let causalOut = AttentionKernels.naive(q: q, k: k, v: v, mask: Tensor.causalMask(4, dtype: .float64))
        let gk = Tensor.gradients(of: causalOut.slice(axis: 2, start: 0, end: 3).sum(), withRespectTo: [k, v])
        for c in 0..<3 {
            #expect(gk[0][0, 0, 3, c] == 0 && gk[1][0, 1, 3, c] == 0)
        }
    }

    @Test func naiveGradientCheck() {
        let mask = AttentionMasks.slidingWindow(queries: 4, keys: 5, window: 2, queryOffset: 1, persistent: 0, dtype: .float64)
        let result = GradientCheck.first(inputs: [normal([1, 2, 4, 3], seed: 10), normal([1, 2, 5, 3], seed: 11),
                                                  normal([1, 2, 5, 2], seed: 12)]) { t in
            AttentionKernels.naive(q: t[0], k: t[1], v: t[2], mask: mask)
        }
        #expect(result.passed, "\(result)")
    }
}

// MARK: - Causal

@Suite("Attention causal kernel")
struct AttentionCausalTests {
    @Test(arguments: [
        (t: 13, tile: 4), (t: 16, tile: 4), (t: 5, tile: 64), (t: 7, tile: 1), (t: 1, tile: 64), (t: 9, tile: 9),
    ])
    func equalsNaive(t: Int, tile: Int) {
        let q = normal([2, 3, t, 4], seed: 20), k = normal([2, 3, t, 4], seed: 21), v = normal([2, 3, t, 5], seed: 22)
        let fast = AttentionKernels.causal(q: q, k: k, v: v, queryOffset: 0, tile: tile)
        let reference = Reference.causal(q, k, v, queryOffset: 0)
        #expect(fast.shape == [2, 3, t, 5])
        #expect(maxAbsDifference(fast, reference) < tight)
        let loops = loopAttention(q, k, v, scale: 0.5) { i, j in j <= i }
        #expect(zip(fast.toArray(), loops).allSatisfy { Swift.abs($0 - $1) < tight })
    }

    @Test func offsetQueriesAndIgnoredFutureKeys() {
        let k = normal([1, 2, 12, 4], seed: 23), v = normal([1, 2, 12, 4], seed: 24)
        for (tq, offset, tile) in [(5, 7, 2), (3, 2, 64), (1, 11, 64), (4, 0, 3)] {
            let q = normal([1, 2, tq, 4], seed: UInt64(25 + tq))
            let fast = AttentionKernels.causal(q: q, k: k, v: v, queryOffset: offset, tile: tile)
            #expect(maxAbsDifference(fast, Reference.causal(q, k, v, queryOffset: offset)) < tight)
        }
    }

    @Test func decodeStepsEqualTheFullComputation() {
        let t = 9
        let q = normal([2, 2, t, 4], seed: 30), k = normal([2, 2, t, 4], seed: 31), v = normal([2, 2, t, 4], seed: 32)
        let full = AttentionKernels.causal(q: q, k: k, v: v, tile: 4)
        for step in 0..<t {
            // KV cache holding positions 0...step; default queryOffset = Tk - Tq = step.
            let out = AttentionKernels.causal(q: q.slice(axis: 2, start: step, end: step + 1),
                                              k: k.slice(axis: 2, start: 0, end: step + 1),
                                              v: v.slice(axis: 2, start: 0, end: step + 1))
            #expect(maxAbsDifference(out, full.slice(axis: 2, start: step, end: step + 1)) < tight)
        }
    }

    @Test func keysBroadcastOverBatch() {
        let q = normal([3, 2, 6, 4], seed: 33), k = normal([1, 2, 6, 4], seed: 34), v = normal([1, 2, 6, 4], seed: 35)
        let fast = AttentionKernels.causal(q: q, k: k, v: v, tile: 4)
        #expect(fast.shape == [3, 2, 6, 4])
        #expect(maxAbsDifference(fast, Reference.causal(q, k, v, queryOffset: 0)) < tight)
    }

    @Test func float32MatchesNaive() {
        let q = normal([1, 2, 10, 8], seed: 36, dtype: .float32), k = normal([1, 2, 10, 8], seed: 37, dtype: .float32)
        let v = normal([1, 2, 10, 8], seed: 38, dtype: .float32)
        let fast = AttentionKernels.causal(q: q, k: k, v: v, tile: 3)
        let reference = AttentionKernels.naive(q: q, k: k, v: v, mask: Tensor.causalMask(10))
        #expect(maxAbsDifference(fast, reference) < 1e-5)
    }

    @Test func gradientCheck() {
        let result = GradientCheck.first(inputs: [normal([1, 2, 5, 3], seed: 40), normal([1, 2, 6, 3], seed: 41),
                                                  normal([1, 2, 6, 2], seed: 42)]) { t in
            AttentionKernels.causal(q: t[0], k: t[1], v: t[2], queryOffset: 1, tile: 2)
        }
        #expect(result.passed, "\(result)")
    }

    @Test func secondOrderGradientCheck() {
        let result = GradientCheck.second(inputs: [normal([1, 1, 3, 2], seed: 43), normal([1, 1, 3, 2], seed: 44),
                                                   normal([1, 1, 3, 2], seed: 45)]) { t in
            AttentionKernels.causal(q: t[0], k: t[1], v: t[2], tile: 2)
        }
        #expect(result.passed, "\(result)")
    }
}

// MARK: - Sliding window

@Suite("Attention sliding-window kernel")
struct AttentionSlidingWindowTests {
    @Test(arguments: [
        (t: 12, window: 3, np: 0, block: 0), (t: 12, window: 3, np: 2, block: 0), (t: 7, window: 4, np: 2, block: 0),
        (t: 7, window: 20, np: 0, block: 0), (t: 7, window: 20, np: 3, block: 2), (t: 10, window: 1, np: 1, block: 0),
        (t: 11, window: 4, np: 2, block: 3), (t: 11, window: 4, np: 0, block: 7), (t: 1, window: 3, np: 2, block: 0),
    ])
    func equalsNaive(t: Int, window: Int, np: Int, block: Int) {
        let q = normal([2, 2, t, 4], seed: 50), k = normal([2, 2, t, 4], seed: 51), v = normal([2, 2, t, 3], seed: 52)
        let pk = np > 0 ? normal([1, 2, np, 4], seed: 53) : nil, pv = np > 0 ? normal([1, 2, np, 3], seed: 54) : nil
        let fast = AttentionKernels.slidingWindow(q: q, k: k, v: v, window: window, persistentKeys: pk,
                                                  persistentValues: pv, block: block == 0 ? nil : block)
        let reference = Reference.slidingWindow(q, k, v, window: window, pk: pk, pv: pv, queryOffset: 0)
        #expect(fast.shape == [2, 2, t, 3])
        #expect(maxAbsDifference(fast, reference) < tight)
        if np == 0 {
            let loops = loopAttention(q, k, v, scale: 0.5) { i, j in j <= i && j > i - window }
            #expect(zip(fast.toArray(), loops).allSatisfy { Swift.abs($0 - $1) < tight })
        }
    }

    @Test func windowCoveringTheSequenceIsCausal() {
        let q = normal([1, 2, 9, 4], seed: 55), k = normal([1, 2, 9, 4], seed: 56), v = normal([1, 2, 9, 4], seed: 57)
        let sliding = AttentionKernels.slidingWindow(q: q, k: k, v: v, window: 9, block: 4)
        #expect(maxAbsDifference(sliding, AttentionKernels.causal(q: q, k: k, v: v)) < tight)
    }

    @Test func emptyPersistentRowsAreNoPersistentRows() {
        let q = normal([1, 1, 6, 2], seed: 58), k = normal([1, 1, 6, 2], seed: 59), v = normal([1, 1, 6, 2], seed: 60)
        let a = AttentionKernels.slidingWindow(q: q, k: k, v: v, window: 2,
                                               persistentKeys: Tensor.zeros([1, 1, 0, 2], dtype: .float64),
                                               persistentValues: Tensor.zeros([1, 1, 0, 2], dtype: .float64))
        #expect(maxAbsDifference(a, AttentionKernels.slidingWindow(q: q, k: k, v: v, window: 2)) < tight)
    }

    @Test(arguments: [(window: 3, np: 0), (window: 3, np: 2), (window: 1, np: 2), (window: 8, np: 1)])
    func decodeWithRollingCacheEqualsTheFullComputation(window: Int, np: Int) {
        let t = 10
        let q = normal([2, 2, t, 4], seed: 61), k = normal([2, 2, t, 4], seed: 62), v = normal([2, 2, t, 4], seed: 63)
        let pk = np > 0 ? normal([2, 2, np, 4], seed: 64) : nil, pv = np > 0 ? normal([2, 2, np, 4], seed: 65) : nil
        let full = AttentionKernels.slidingWindow(q: q, k: k, v: v, window: window, persistentKeys: pk, persistentValues: pv)
        for p in 0..<t {
            let row = full.slice(axis: 2, start: p, end: p + 1)
            let qp = q.slice(axis: 2, start: p, end: p + 1)
            // Rolling cache of the last `window` positions.
            let first = Swift.max(0, p - window + 1)
            let rolling = AttentionKernels.slidingWindow(
                q: qp, k: k.slice(axis: 2, start: first, end: p + 1), v: v.slice(axis: 2, start: first, end: p + 1),
                window: window, persistentKeys: pk, persistentValues: pv, queryOffset: p, keyOffset: first)
            #expect(maxAbsDifference(rolling, row) < tight, "position \(p)")
            // A cache holding everything so far (default queryOffset = last key position).
            let growing = AttentionKernels.slidingWindow(
                q: qp, k: k.slice(axis: 2, start: 0, end: p + 1), v: v.slice(axis: 2, start: 0, end: p + 1),
                window: window, persistentKeys: pk, persistentValues: pv)
            #expect(maxAbsDifference(growing, row) < tight, "position \(p)")
        }
    }

    @Test func offsetQueriesWithKeysBeyondThem() {
        // Keys at positions 3 ..< 15, queries at positions 6 ..< 10 with window 4: needs keys from 3.
        let k = normal([1, 2, 12, 4], seed: 66), v = normal([1, 2, 12, 4], seed: 67), q = normal([1, 2, 4, 4], seed: 68)
        let pk = normal([1, 1, 2, 4], seed: 69), pv = normal([1, 1, 2, 4], seed: 70)
        let fast = AttentionKernels.slidingWindow(q: q, k: k, v: v, window: 4, persistentKeys: pk, persistentValues: pv,
                                                  queryOffset: 6, keyOffset: 3, block: 3)
        let reference = Reference.slidingWindow(q, k, v, window: 4, pk: pk, pv: pv, queryOffset: 6, keyOffset: 3)
        #expect(maxAbsDifference(fast, reference) < tight)
    }

    @Test func gradientCheck() {
        let result = GradientCheck.first(inputs: [normal([1, 2, 7, 3], seed: 71), normal([1, 2, 7, 3], seed: 72),
                                                  normal([1, 2, 7, 2], seed: 73), normal([1, 2, 2, 3], seed: 74),
                                                  normal([1, 1, 2, 2], seed: 75)]) { t in
            AttentionKernels.slidingWindow(q: t[0], k: t[1], v: t[2], window: 3, persistentKeys: t[3],
                                           persistentValues: t[4], block: 2)
        }
        #expect(result.passed, "\(result)")
    }
}

// MARK: - One query in plain loops (decoding)

@Suite("Attention of one query in plain loops")
struct AttentionSingleQueryTests {
    /// Float32 without gradients takes the loops (`AttentionKernels.singleQuery`) where the float64 reference takes the
    /// ops: the naive kernel over keys shared by the batch, over a cache's rows (a slice of a larger buffer, rows dense,
    /// heads apart) and over heads split from a projection (a permuted view, copied); the sliding window with a
    /// persistent prefix broadcast over the batch; a causal decoding step. To 1e-5 of the largest output.
    @Test func loopsEqualTheReference() {
        /// The loops on float32 inputs laid out as given against the ops on the same values in float64.
        func check(_ label: String, _ attention: ([Tensor]) -> Tensor, _ inputs: [Tensor]) {
            let expected = attention(inputs.map { $0.to(.float64) })
            let got = withoutGradients { attention(inputs) }
            let scale = expected.toArray().map(Swift.abs).max() ?? 1
            #expect(got.dtype == .float32 && maxAbsDifference(got.to(.float64), expected) <= 1e-5 * scale, "\(label)")
        }
        let q = normal([2, 3, 1, 8], seed: 80, dtype: .float32)
        let shared = [normal([1, 3, 11, 8], seed: 81, dtype: .float32), normal([1, 3, 11, 5], seed: 82, dtype: .float32)]
        let cache = [normal([2, 3, 20, 8], seed: 83, dtype: .float32).slice(axis: 2, start: 0, end: 13),
                     normal([2, 3, 20, 5], seed: 84, dtype: .float32).slice(axis: 2, start: 0, end: 13)]
        let projected = [normal([2, 9, 3, 8], seed: 85, dtype: .float32).permute([0, 2, 1, 3]),
                         normal([2, 9, 3, 5], seed: 86, dtype: .float32).permute([0, 2, 1, 3])]
        #expect(!cache[0].isContiguous && !projected[0].isContiguous)
        for (label, kv) in [("shared", shared), ("cache", cache), ("projected", projected)] {
            check(label, { AttentionKernels.naive(q: $0[0], k: $0[1], v: $0[2], mask: nil, scale: 0.4) }, [q] + kv)
        }
        let prefix = [normal([1, 9, 3, 8], seed: 87, dtype: .float32).permute([0, 2, 1, 3]),
                      normal([1, 9, 3, 5], seed: 88, dtype: .float32).permute([0, 2, 1, 3])]
        check("sliding window with a prefix", {
            AttentionKernels.slidingWindow(q: $0[0], k: $0[1], v: $0[2], window: 6, persistentKeys: $0[3], persistentValues: $0[4],
                                           queryOffset: 12)
        }, [q] + cache + prefix)
        check("causal", { AttentionKernels.causal(q: $0[0], k: $0[1], v: $0[2]) }, [q] + cache)
    }
}
