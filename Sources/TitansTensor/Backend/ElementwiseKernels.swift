/// Generic elementwise loops over strided, broadcast operands. Each op passes a closure that
/// the compiler specialises and inlines, so the inner loops are plain (and vectorisable) pointer loops.
enum ElementwiseKernels {
    /// `out = f(x)` elementwise; `out` may be any strided view of `x`'s shape.
    @inline(__always)
    static func map<T: TensorScalar>(_ x: Tensor, into out: Tensor, _: T.Type, _ f: (T) -> T) {
        if x.shape == out.shape && x.isContiguous && out.isContiguous {
            let o = out.pointer(T.self), p = x.pointer(T.self)
            Parallel.forRanges(out.count, grain: Parallel.elementwiseGrain) { r in
                for i in r { o[i] = f(p[i]) }
            }
            return
        }
        let plan = ElementwisePlan(shape: out.shape, operands: [
            (out.strides, out.offset), (ElementwisePlan.broadcastStrides(x, to: out.shape), x.offset),
        ])
        let o = out.storage.pointer(T.self), p = x.storage.pointer(T.self)
        let so = plan.innerStrides[0], sx = plan.innerStrides[1]
        plan.forEachRun { start, n in
            let oo = o + start[0], px = p + start[1]
            if so == 1 && sx == 1 {
                for i in 0..<n { oo[i] = f(px[i]) }
            } else {
                for i in 0..<n { oo[i &* so] = f(px[i &* sx]) }
            }
        }
    }

    /// `out = f(a, b)` elementwise with broadcasting of `a` and `b` to `out.shape`.
    @inline(__always)
    static func zip<T: TensorScalar>(_ a: Tensor, _ b: Tensor, into out: Tensor, _: T.Type, _ f: (T, T) -> T) {
        if a.shape == out.shape && b.shape == out.shape && a.isContiguous && b.isContiguous && out.isContiguous {
            let o = out.pointer(T.self), pa = a.pointer(T.self), pb = b.pointer(T.self)
            Parallel.forRanges(out.count, grain: Parallel.elementwiseGrain) { r in
                for i in r { o[i] = f(pa[i], pb[i]) }
            }
            return
        }
        let plan = ElementwisePlan(shape: out.shape, operands: [
            (out.strides, out.offset),
            (ElementwisePlan.broadcastStrides(a, to: out.shape), a.offset),
            (ElementwisePlan.broadcastStrides(b, to: out.shape), b.offset),
        ])
        let o = out.storage.pointer(T.self), pa = a.storage.pointer(T.self), pb = b.storage.pointer(T.self)
        let so = plan.innerStrides[0], sa = plan.innerStrides[1], sb = plan.innerStrides[2]
        plan.forEachRun { start, n in
            let oo = o + start[0], xa = pa + start[1], xb = pb + start[2]
            if so == 1 && sa == 1 && sb == 1 {
                for i in 0..<n { oo[i] = f(xa[i], xb[i]) }
            } else if so == 1 && sa == 1 && sb == 0 {
                let vb = xb[0]
                for i in 0..<n { oo[i] = f(xa[i], vb) }
            } else if so == 1 && sa == 0 && sb == 1 {
                let va = xa[0]
                for i in 0..<n { oo[i] = f(va, xb[i]) }
            } else {
                for i in 0..<n { oo[i &* so] = f(xa[i &* sa], xb[i &* sb]) }
            }
        }
    }

    /// `out = f(a, b, c)` elementwise with broadcasting of all three to `out.shape`.
    @inline(__always)
    static func zip3<T: TensorScalar>(_ a: Tensor, _ b: Tensor, _ c: Tensor, into out: Tensor, _: T.Type,
                                      _ f: (T, T, T) -> T) {
        let plan = ElementwisePlan(shape: out.shape, operands: [
            (out.strides, out.offset),
            (ElementwisePlan.broadcastStrides(a, to: out.shape), a.offset),
            (ElementwisePlan.broadcastStrides(b, to: out.shape), b.offset),
            (ElementwisePlan.broadcastStrides(c, to: out.shape), c.offset),
        ])
        let o = out.storage.pointer(T.self), pa = a.storage.pointer(T.self)
        let pb = b.storage.pointer(T.self), pc = c.storage.pointer(T.self)
        let s = plan.innerStrides
        plan.forEachRun { start, n in
            let oo = o + start[0], xa = pa + start[1], xb = pb + start[2], xc = pc + start[3]
            for i in 0..<n { oo[i &* s[0]] = f(xa[i &* s[1]], xb[i &* s[2]], xc[i &* s[3]]) }
        }
    }
}
