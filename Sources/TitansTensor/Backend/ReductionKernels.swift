/// Reductions of a contiguous tensor viewed as `[outer, length, inner]` over its middle dimension.
enum ReductionKernels {
    /// `out[o, i] = combine over r of x[o, r, i]`, starting from `identity`. `combine` must be associative.
    @inline(__always)
    static func reduce<F: BinaryElementFunction>(_ x: UnsafePointer<F.Scalar>, outer: Int, length: Int, inner: Int,
                                                 into out: UnsafeMutablePointer<F.Scalar>, identity: F.Scalar, _ combine: F) {
        if inner == 1 {
            Parallel.forRanges(outer, grain: max(1, Parallel.elementwiseGrain / max(length, 1))) { range in
                for o in range {
                    let row = x + o * length
                    // Four running partial results keep the loop vectorisable and the rounding error small.
                    var a0 = identity, a1 = identity, a2 = identity, a3 = identity
                    var r = 0
                    while r + 4 <= length {
                        a0 = combine(a0, row[r]); a1 = combine(a1, row[r + 1])
                        a2 = combine(a2, row[r + 2]); a3 = combine(a3, row[r + 3])
                        r += 4
                    }
                    while r < length { a0 = combine(a0, row[r]); r += 1 }
                    out[o] = combine(combine(a0, a1), combine(a2, a3))
                }
            }
            return
        }
        // Parallel over inner columns when there are few outer blocks, else over outer blocks.
        if outer >= Parallel.availableThreads {
            Parallel.forRanges(outer, grain: max(1, Parallel.elementwiseGrain / max(length * inner, 1))) { range in
                for o in range { columns(x + o * length * inner, length: length, inner: inner,
                                         0..<inner, into: out + o * inner, identity: identity, combine) }
            }
        } else {
            for o in 0..<outer {
                Parallel.forRanges(inner, grain: max(1, Parallel.elementwiseGrain / max(length, 1))) { range in
                    columns(x + o * length * inner, length: length, inner: inner,
                            range, into: out + o * inner, identity: identity, combine)
                }
            }
        }
    }

    @inline(__always)
    private static func columns<F: BinaryElementFunction>(_ x: UnsafePointer<F.Scalar>, length: Int, inner: Int,
                                                          _ range: Range<Int>, into out: UnsafeMutablePointer<F.Scalar>,
                                                          identity: F.Scalar, _ combine: F) {
        for i in range { out[i] = identity }
        for r in 0..<length {
            let row = x + r * inner
            for i in range { out[i] = combine(out[i], row[i]) }
        }
    }

    /// Index of the first maximum along the middle dimension of `[outer, length, inner]`.
    static func argmax<T: TensorScalar>(_ x: UnsafePointer<T>, outer: Int, length: Int, inner: Int) -> [Int] {
        var result = [Int](repeating: 0, count: outer * inner)
        for o in 0..<outer {
            for i in 0..<inner {
                var best = 0
                var bestValue = x[o * length * inner + i]
                for r in 1..<max(length, 1) {
                    let v = x[(o * length + r) * inner + i]
                    if v > bestValue || (bestValue.isNaN && !v.isNaN) { bestValue = v; best = r }
                }
                result[o * inner + i] = best
            }
        }
        return result
    }
}
