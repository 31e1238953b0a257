/// Elementwise loops over strided, broadcast operands. They are generic over the element function
/// (see ``ElementFunctions``), so the inner loops are plain, vectorisable pointer loops on every thread.
enum ElementwiseKernels {
    /// `out = f(x)` elementwise, `x` broadcast to `out.shape`; `out` may be any strided view.
    @inline(__always)
    static func map<F: UnaryElementFunction>(_ x: Tensor, into out: Tensor, _ f: F) {
        typealias T = F.Scalar
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
    static func zip<F: BinaryElementFunction>(_ a: Tensor, _ b: Tensor, into out: Tensor, _ f: F) {
        typealias T = F.Scalar
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

    /// `out = a · s + c` elementwise with broadcasting of all three to `out.shape` (``Tensor/multiplyAdd(_:_:)``).
    static func multiplyAdd<T: TensorScalar>(_ a: Tensor, _ s: Tensor, _ c: Tensor, into out: Tensor, _: T.Type) {
        if a.shape == out.shape && s.shape == out.shape && c.shape == out.shape
            && a.isContiguous && s.isContiguous && c.isContiguous && out.isContiguous {
            let o = out.pointer(T.self), pa = a.pointer(T.self), ps = s.pointer(T.self), pc = c.pointer(T.self)
            Parallel.forRanges(out.count, grain: Parallel.elementwiseGrain) { r in
                for i in r { o[i] = pa[i] * ps[i] + pc[i] }
            }
            return
        }
        let plan = ElementwisePlan(shape: out.shape, operands: [
            (out.strides, out.offset),
            (ElementwisePlan.broadcastStrides(a, to: out.shape), a.offset),
            (ElementwisePlan.broadcastStrides(s, to: out.shape), s.offset),
            (ElementwisePlan.broadcastStrides(c, to: out.shape), c.offset),
        ])
        let o = out.storage.pointer(T.self), pa = a.storage.pointer(T.self)
        let ps = s.storage.pointer(T.self), pc = c.storage.pointer(T.self)
        let st = plan.innerStrides
        plan.forEachRun { start, n in
            let oo = o + start[0], xa = pa + start[1], xs = ps + start[2], xc = pc + start[3]
            if st[0] == 1 && st[1] == 1 && st[2] == 0 && st[3] == 1 {  // a scale per run: a decaying state
                let v = xs[0]
                for i in 0..<n { oo[i] = xa[i] * v + xc[i] }
            } else {
                for i in 0..<n { oo[i &* st[0]] = xa[i &* st[1]] * xs[i &* st[2]] + xc[i &* st[3]] }
            }
        }
    }

    /// `out = mask != 0 ? a : b` elementwise with broadcasting of all three to `out.shape`.
    static func select<T: TensorScalar>(_ mask: Tensor, _ a: Tensor, _ b: Tensor, into out: Tensor, _: T.Type) {
        let plan = ElementwisePlan(shape: out.shape, operands: [
            (out.strides, out.offset),
            (ElementwisePlan.broadcastStrides(mask, to: out.shape), mask.offset),
            (ElementwisePlan.broadcastStrides(a, to: out.shape), a.offset),
            (ElementwisePlan.broadcastStrides(b, to: out.shape), b.offset),
        ])
        let o = out.storage.pointer(T.self), pm = mask.storage.pointer(T.self)
        let pa = a.storage.pointer(T.self), pb = b.storage.pointer(T.self)
        let s = plan.innerStrides
        plan.forEachRun { start, n in
            let oo = o + start[0], xm = pm + start[1], xa = pa + start[2], xb = pb + start[3]
            for i in 0..<n { oo[i &* s[0]] = xm[i &* s[1]] != 0 ? xa[i &* s[2]] : xb[i &* s[3]] }
        }
    }
}
