/// The CPU's kernels along one axis of a contiguous tensor viewed as `[outer, length, inner]`: reductions, scans,
/// softmax, and the gathers and scatter-adds of integer indexing.
extension CPUBackend {
    func reduce(_ reduction: Reduction, _ x: Tensor, outer: Int, length: Int, inner: Int, into out: Tensor) {
        func run<T: TensorScalar>(_: T.Type) {
            switch reduction {
            case .sum: ReductionKernels.reduce(x.pointer(T.self), outer: outer, length: length, inner: inner,
                                               into: out.pointer(T.self), identity: 0, ElementFunctions.Add<T>())
            case .max: ReductionKernels.reduce(x.pointer(T.self), outer: outer, length: length, inner: inner,
                                               into: out.pointer(T.self), identity: -T.infinity,
                                               ElementFunctions.NaNPropagatingMaximum<T>())
            }
        }
        switch x.dtype {
        case .float32: run(Float.self)
        case .float64: run(Double.self)
        }
    }

    func argmax(_ x: Tensor, outer: Int, length: Int, inner: Int) -> [Int] {
        switch x.dtype {
        case .float32: return ReductionKernels.argmax(x.pointer(Float.self), outer: outer, length: length, inner: inner)
        case .float64: return ReductionKernels.argmax(x.pointer(Double.self), outer: outer, length: length, inner: inner)
        }
    }

    func cumulativeSum(_ x: Tensor, outer: Int, length: Int, inner: Int, reverse: Bool, into out: Tensor) {
        func run<T: TensorScalar>(_: T.Type) {
            let src = x.pointer(T.self), dst = out.pointer(T.self)
            Self.forLineBlocks(outer: outer, length: length, inner: inner) { o, columns in
                let base = o * length * inner
                var previous: Int? = nil
                for step in 0..<length {
                    let row = base + (reverse ? length - 1 - step : step) * inner
                    if let p = previous {
                        for i in columns { dst[row + i] = dst[p + i] + src[row + i] }
                    } else {
                        for i in columns { dst[row + i] = src[row + i] }
                    }
                    previous = row
                }
            }
        }
        switch x.dtype {
        case .float32: run(Float.self)
        case .float64: run(Double.self)
        }
    }

    /// Calls `body(o, columns)` over disjoint blocks of the lines (each outer index `o`, a range of its inner columns),
    /// on both cores when there are many elements; every line stays whole in one call, as a scan needs.
    private static func forLineBlocks(outer: Int, length: Int, inner: Int, _ body: (Int, Range<Int>) -> Void) {
        let grain = Swift.max(1, Parallel.elementwiseGrain / Swift.max(length, 1))
        if outer >= Parallel.availableThreads || inner == 1 {
            Parallel.forRanges(outer, grain: Swift.max(1, grain / Swift.max(inner, 1))) { range in
                for o in range { body(o, 0..<inner) }
            }
        } else {
            for o in 0..<outer { Parallel.forRanges(inner, grain: grain) { body(o, $0) } }
        }
    }

    func linearScan(_ a: Tensor, _ b: Tensor, initial: Tensor, outer: Int, length: Int, inner: Int, reverse: Bool,
                    into out: Tensor) {
        func run<T: TensorScalar>(_: T.Type) {
            let pa = a.pointer(T.self), pb = b.pointer(T.self), ph = initial.pointer(T.self), dst = out.pointer(T.self)
            Self.forLineBlocks(outer: outer, length: length, inner: inner) { o, columns in
                let base = o * length * inner
                var previous = UnsafePointer(ph + o * inner)
                for step in 0..<length {
                    let row = base + (reverse ? length - 1 - step : step) * inner
                    for i in columns { dst[row + i] = pa[row + i] * previous[i] + pb[row + i] }
                    previous = UnsafePointer(dst + row)
                }
            }
        }
        switch a.dtype {
        case .float32: run(Float.self)
        case .float64: run(Double.self)
        }
    }

    func softmax(_ x: Tensor, outer: Int, length: Int, inner: Int, log: Bool, into out: Tensor) {
        func run<T: TensorScalar>(_: T.Type) {
            let src = x.pointer(T.self), dst = out.pointer(T.self)
            Parallel.forRanges(outer * inner, grain: Swift.max(1, Parallel.elementwiseGrain / Swift.max(length, 1))) { range in
                for line in range {
                    let o = line / inner, i = line % inner
                    let base = o * length * inner + i
                    var m = -T.infinity
                    for t in 0..<length { m = Swift.max(m, src[base + t * inner]) }
                    if !m.isFinite { m = 0 }
                    var total: T = 0
                    for t in 0..<length {
                        let e = T.exp(src[base + t * inner] - m)
                        dst[base + t * inner] = e
                        total += e
                    }
                    if log {
                        // (x - m) - log(total): rounding m + log(total) first would lose the small log term next to a large m.
                        let logTotal = T.log(total)
                        for t in 0..<length { dst[base + t * inner] = (src[base + t * inner] - m) - logTotal }
                    } else {
                        let scale = 1 / total
                        for t in 0..<length { dst[base + t * inner] *= scale }
                    }
                }
            }
        }
        switch x.dtype {
        case .float32: run(Float.self)
        case .float64: run(Double.self)
        }
    }

    func normalizeRows(_ x: Tensor, weight: Tensor?, divisor: Double, epsilon: Double, rows: Int, width: Int, into out: Tensor) {
        func run<T: TensorScalar>(_: T.Type) {
            let src = x.pointer(T.self), dst = out.pointer(T.self), w = weight?.pointer(T.self)
            let (d, e) = (T(divisor), T(epsilon))
            Parallel.forRanges(rows, grain: Swift.max(1, Parallel.elementwiseGrain / Swift.max(width, 1))) { range in
                for r in range {
                    let row = src + r * width, y = dst + r * width
                    var squares: T = 0
                    for i in 0..<width { squares += row[i] * row[i] }
                    let scale = 1 / (squares / d + e).squareRoot()
                    if let w {
                        for i in 0..<width { y[i] = row[i] * scale * w[i] }
                    } else {
                        for i in 0..<width { y[i] = row[i] * scale }
                    }
                }
            }
        }
        switch x.dtype {
        case .float32: run(Float.self)
        case .float64: run(Double.self)
        }
    }

    func rotateHalves(_ x: Tensor, cos: Tensor, sin: Tensor, rows: Int, positions: Int, width: Int, into out: Tensor) {
        func run<T: TensorScalar>(_: T.Type) {
            let src = x.pointer(T.self), dst = out.pointer(T.self), pc = cos.pointer(T.self), ps = sin.pointer(T.self)
            let half = width / 2
            Parallel.forRanges(rows, grain: Swift.max(1, Parallel.elementwiseGrain / Swift.max(width, 1))) { range in
                for r in range {
                    let row = src + r * width, y = dst + r * width, angle = (r % positions) * half
                    for c in 0..<half {
                        let (a, b, co, si) = (row[c], row[c + half], pc[angle + c], ps[angle + c])
                        y[c] = a * co - b * si
                        y[c + half] = b * co + a * si
                    }
                }
            }
        }
        switch x.dtype {
        case .float32: run(Float.self)
        case .float64: run(Double.self)
        }
    }

    func indexSelect(_ x: Tensor, indices: [Int], outer: Int, length: Int, inner: Int, into out: Tensor) {
        func run<T: TensorScalar>(_: T.Type) {
            let src = x.pointer(T.self), dst = out.pointer(T.self), n = indices.count
            // Rows copied side by side when there are many elements (an embedding lookup of a long batch).
            Parallel.forRanges(outer * n, grain: Swift.max(1, Parallel.elementwiseGrain / Swift.max(inner, 1))) { rows in
                for r in rows {
                    let (o, j) = r.quotientAndRemainder(dividingBy: n)
                    (dst + r * inner).update(from: src + (o * length + indices[j]) * inner, count: inner)
                }
            }
        }
        switch x.dtype {
        case .float32: run(Float.self)
        case .float64: run(Double.self)
        }
    }

    func indexAdd(_ x: Tensor, indices: [Int], outer: Int, length: Int, inner: Int, into out: Tensor) {
        func run<T: TensorScalar>(_: T.Type) {
            let src = x.pointer(T.self), dst = out.pointer(T.self), n = indices.count
            for o in 0..<outer {
                for (j, index) in indices.enumerated() {
                    let s = src + (o * n + j) * inner, d = dst + (o * length + index) * inner
                    for i in 0..<inner { d[i] += s[i] }
                }
            }
        }
        switch x.dtype {
        case .float32: run(Float.self)
        case .float64: run(Double.self)
        }
    }

    func take(_ x: Tensor, indices: [Int], outer: Int, length: Int, inner: Int, into out: Tensor) {
        func run<T: TensorScalar>(_: T.Type) {
            let src = x.pointer(T.self), dst = out.pointer(T.self)
            for o in 0..<outer {
                for i in 0..<inner { dst[o * inner + i] = src[(o * length + indices[o * inner + i]) * inner + i] }
            }
        }
        switch x.dtype {
        case .float32: run(Float.self)
        case .float64: run(Double.self)
        }
    }

    func put(_ x: Tensor, indices: [Int], outer: Int, length: Int, inner: Int, into out: Tensor) {
        func run<T: TensorScalar>(_: T.Type) {
            let src = x.pointer(T.self), dst = out.pointer(T.self)
            for o in 0..<outer {
                for i in 0..<inner { dst[(o * length + indices[o * inner + i]) * inner + i] += src[o * inner + i] }
            }
        }
        switch x.dtype {
        case .float32: run(Float.self)
        case .float64: run(Double.self)
        }
    }
}
