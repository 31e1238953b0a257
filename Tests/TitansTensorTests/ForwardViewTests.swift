import Foundation
import Testing
@testable import TitansTensor

@Suite("Forward: views")
struct ForwardViewTests {
    /// Values 0, 1, 2, … as a tensor of `shape`, so element values name their row-major position.
    static func iota(_ shape: [Int], _ dtype: DType) -> Tensor {
        Tensor(shape: shape, (0..<FwdRef.count(shape)).map(Double.init), dtype: dtype)
    }

    @Test(arguments: DType.allCases)
    func reshape(dtype: DType) {
        let x = Self.iota([2, 3, 4], dtype)
        let all = (0..<24).map(Double.init)
        for (target, resolved) in [([6, 4], [6, 4]), ([-1, 2], [12, 2]), ([4, -1, 3], [4, 2, 3]), ([24], [24]),
                                   ([-1], [24]), ([1, 24, 1], [1, 24, 1]), ([2, 3, 4], [2, 3, 4])] {
            let r = x.reshape(target)
            FwdRef.expectClose(r, all, shape: resolved, dtype: dtype, "reshape \(target)")
            #expect(r.storage === x.storage, "reshape of contiguous data is a view")
            #expect(r.isContiguous)
        }
        #expect(x.reshape([2, 3, 4]) === x)
        // Reshaping a non-contiguous view takes the elements in its own row-major order.
        let t = x.reshape([6, 4]).transposed()   // [4, 6]
        let tv = FwdRef.transpose(all, rows: 6, cols: 4)
        FwdRef.expectClose(t.reshape([24]), tv, shape: [24], dtype: dtype, "reshape transposed")
        FwdRef.expectClose(t.reshape([2, -1]), tv, shape: [2, 12], dtype: dtype, "reshape transposed -1")
        // Scalars and empty tensors.
        FwdRef.expectClose(Tensor.scalar(5, dtype: dtype).reshape([1, 1]), [5], shape: [1, 1], dtype: dtype, "scalar to [1, 1]")
        FwdRef.expectClose(Tensor.full([1, 1], value: 5, dtype: dtype).reshape([]), [5], shape: [], dtype: dtype, "[1, 1] to scalar")
        #expect(Tensor.zeros([0, 4], dtype: dtype).reshape([4, 0]).shape == [4, 0])
        // A view with an offset keeps it.
        let rows = x.reshape([6, 4]).slice(axis: 0, start: 2, end: 4)
        FwdRef.expectClose(rows.reshape([8]), (8..<16).map(Double.init), shape: [8], dtype: dtype, "reshape offset rows")
        #expect(rows.reshape([8]).storage === x.storage)
    }

    @Test(arguments: DType.allCases)
    func unsqueezeSqueeze(dtype: DType) {
        let x = Self.iota([2, 3], dtype)
        let v = (0..<6).map(Double.init)
        for (axis, shape) in [(0, [1, 2, 3]), (1, [2, 1, 3]), (2, [2, 3, 1]), (-1, [2, 3, 1]), (-3, [1, 2, 3])] {
            let u = x.unsqueeze(axis)
            FwdRef.expectClose(u, v, shape: shape, dtype: dtype, "unsqueeze(\(axis))")
            #expect(u.storage === x.storage)
            let back = u.squeeze(axis)
            FwdRef.expectClose(back, v, shape: [2, 3], dtype: dtype, "squeeze(\(axis))")
        }
        // Non-contiguous input keeps its logical values.
        let t = x.transposed()
        FwdRef.expectClose(t.unsqueeze(1), FwdRef.transpose(v, rows: 2, cols: 3), shape: [3, 1, 2], dtype: dtype, "unsqueeze transposed")
        FwdRef.expectClose(t.unsqueeze(0).squeeze(0), FwdRef.transpose(v, rows: 2, cols: 3), shape: [3, 2], dtype: dtype, "squeeze transposed")
    }

    @Test(arguments: DType.allCases)
    func permuteAndTranspose(dtype: DType) {
        let shape = [2, 3, 4]
        let x = Self.iota(shape, dtype)
        for order in [[0, 1, 2], [2, 0, 1], [1, 2, 0], [2, 1, 0], [0, 2, 1], [-1, 0, 1]] {
            let o = order.map { $0 < 0 ? $0 + 3 : $0 }
            let p = x.permute(order)
            let pShape = o.map { shape[$0] }
            let expected = (0..<24).map { f -> Double in
                let i = FwdRef.unravel(f, pShape)
                var src = [0, 0, 0]
                for (k, axis) in o.enumerated() { src[axis] = i[k] }
                return Double(FwdRef.ravel(src, shape))
            }
            FwdRef.expectClose(p, expected, shape: pShape, dtype: dtype, "permute \(order)")
            #expect(p.storage === x.storage, "permute shares storage")
            #expect(p.strides == o.map { [12, 4, 1][$0] })
            #expect(p.isContiguous == (o == [0, 1, 2]))
            let c = p.contiguous()
            FwdRef.expectClose(c, expected, shape: pShape, dtype: dtype, "contiguous of permute \(order)")
            #expect(c.isContiguous && c.strides == FwdRef.strides(pShape))
            if o != [0, 1, 2] { #expect(c.storage !== x.storage) }
        }
        // transposed(): last two axes by default; any two axes on request.
        let t = x.transposed()
        #expect(t.shape == [2, 4, 3] && t.storage === x.storage)
        #expect(t[1, 3, 2] == x[1, 2, 3])
        let t02 = x.transposed(0, 2)
        #expect(t02.shape == [4, 3, 2] && t02[3, 1, 0] == x[0, 1, 3])
        #expect(x.transposed().transposed().toArray() == x.toArray())
        // contiguous() of contiguous data is the tensor itself.
        #expect(x.contiguous() === x)
    }

    @Test(arguments: DType.allCases)
    func sliceAndSelect(dtype: DType) {
        let v = Self.iota([10], dtype)
        FwdRef.expectClose(v.slice(axis: 0, start: 1, end: 8, step: 3), [1, 4, 7], shape: [3], dtype: dtype, "step 3")
        FwdRef.expectClose(v.slice(axis: 0, start: 1, end: 9, step: 3), [1, 4, 7], shape: [3], dtype: dtype, "step 3 end 9")
        FwdRef.expectClose(v.slice(axis: 0, start: 0, end: 10, step: 4), [0, 4, 8], shape: [3], dtype: dtype, "step 4")
        FwdRef.expectClose(v.slice(axis: 0, start: 9, end: 10), [9], shape: [1], dtype: dtype, "last")
        #expect(v.slice(axis: 0, start: 3, end: 3).shape == [0])
        let m = Self.iota([4, 5], dtype)
        let s = m.slice(axis: 1, start: 1, end: 5, step: 2)
        FwdRef.expectClose(s, [1, 3, 6, 8, 11, 13, 16, 18], shape: [4, 2], dtype: dtype, "2-d column slice")
        #expect(s.storage === m.storage && !s.isContiguous && s.offset == 1 && s.strides == [5, 2])
        let r = m.slice(axis: -2, start: 1, end: 3)
        FwdRef.expectClose(r, (5..<15).map(Double.init), shape: [2, 5], dtype: dtype, "row slice")
        #expect(r.isContiguous && r.offset == 5 && r.storage === m.storage)
        // Slices of slices compose offsets and steps.
        let ss = m.slice(axis: 0, start: 1, end: 4).slice(axis: 0, start: 0, end: 3, step: 2).slice(axis: 1, start: 2, end: 5, step: 2)
        FwdRef.expectClose(ss, [7, 9, 17, 19], shape: [2, 2], dtype: dtype, "slice of slice")
        // select removes the axis.
        FwdRef.expectClose(m.select(axis: 0, index: 2), (10..<15).map(Double.init), shape: [5], dtype: dtype, "select row")
        FwdRef.expectClose(m.select(axis: 1, index: 3), [3, 8, 13, 18], shape: [4], dtype: dtype, "select column")
        FwdRef.expectClose(m.select(axis: -1, index: 0), [0, 5, 10, 15], shape: [4], dtype: dtype, "select -1")
        let x3 = Self.iota([2, 3, 4], dtype)
        FwdRef.expectClose(x3.select(axis: 1, index: 2), [8, 9, 10, 11, 20, 21, 22, 23], shape: [2, 4], dtype: dtype, "select middle")
        #expect(x3.select(axis: 0, index: 1).storage === x3.storage)
        FwdRef.expectClose(Self.iota([3], dtype).select(axis: 0, index: 1), [1], shape: [], dtype: dtype, "select to 0-d")
    }

    @Test(arguments: DType.allCases)
    func expand(dtype: DType) {
        let c = Tensor(shape: [3, 1], [1, 2, 3], dtype: dtype)
        let e = c.expand(to: [2, 3, 4])
        FwdRef.expectClose(e, (0..<24).map { Double(($0 / 4) % 3 + 1) }, shape: [2, 3, 4], dtype: dtype, "expand [3, 1]")
        #expect(e.storage === c.storage && e.strides == [0, 1, 0] && !e.isContiguous)
        let r = Tensor(shape: [4], [1, 2, 3, 4], dtype: dtype).expand(to: [3, 4])
        FwdRef.expectClose(r, (0..<12).map { Double($0 % 4 + 1) }, shape: [3, 4], dtype: dtype, "expand row")
        let s = Tensor.scalar(7, dtype: dtype).expand(to: [2, 2])
        FwdRef.expectClose(s, [7, 7, 7, 7], shape: [2, 2], dtype: dtype, "expand scalar")
        #expect(c.expand(to: [3, 1]) === c)
        // expand to the same rank with size-1 dims, and expand of a transposed view.
        let t = Self.iota([1, 3], dtype).transposed()   // [3, 1], strides [1, 3]
        FwdRef.expectClose(t.expand(to: [3, 2]), [0, 0, 1, 1, 2, 2], shape: [3, 2], dtype: dtype, "expand transposed")
        FwdRef.expectClose(e.contiguous(), (0..<24).map { Double(($0 / 4) % 3 + 1) }, shape: [2, 3, 4], dtype: dtype, "contiguous of expanded")
    }

    @Test(arguments: DType.allCases)
    func paddedAndEmbed(dtype: DType) {
        let x = Self.iota([2, 3], dtype) + 1
        FwdRef.expectClose(x.padded(axis: 1, before: 2, after: 1), [0, 0, 1, 2, 3, 0,
                                                                    0, 0, 4, 5, 6, 0], shape: [2, 6], dtype: dtype, "pad axis 1")
        FwdRef.expectClose(x.padded(axis: 0, before: 0, after: 2), [1, 2, 3, 4, 5, 6, 0, 0, 0, 0, 0, 0], shape: [4, 3], dtype: dtype, "pad axis 0")
        FwdRef.expectClose(x.padded(axis: -1, before: 0, after: 0), [1, 2, 3, 4, 5, 6], shape: [2, 3], dtype: dtype, "no padding")
        FwdRef.expectClose(x.embed(into: [2, 7], axis: 1, start: 1, step: 2), [0, 1, 0, 2, 0, 3, 0,
                                                                              0, 4, 0, 5, 0, 6, 0], shape: [2, 7], dtype: dtype, "embed step 2")
        FwdRef.expectClose(x.embed(into: [5, 3], axis: 0, start: 3), [0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4, 5, 6], shape: [5, 3], dtype: dtype, "embed rows")
        // Non-contiguous source.
        FwdRef.expectClose(x.transposed().padded(axis: 1, before: 1, after: 0), [0, 1, 4, 0, 2, 5, 0, 3, 6], shape: [3, 3], dtype: dtype, "pad transposed")
    }

    @Test(arguments: DType.allCases)
    func contiguityFlags(dtype: DType) {
        let x = Tensor.zeros([3, 4], dtype: dtype)
        #expect(x.isContiguous)
        #expect(!x.transposed().isContiguous)
        #expect(x.slice(axis: 0, start: 1, end: 3).isContiguous)
        #expect(!x.slice(axis: 1, start: 1, end: 3).isContiguous)
        #expect(x.slice(axis: 1, start: 1, end: 2).isContiguous == false)
        #expect(!x.slice(axis: 0, start: 0, end: 3, step: 2).isContiguous)
        #expect(!x.unsqueeze(0).expand(to: [2, 3, 4]).isContiguous)
        #expect(Tensor.zeros([1, 4], dtype: dtype).expand(to: [1, 4]).isContiguous)
        // Size-1 dims do not matter: a transposed row or column vector is still dense.
        #expect(Tensor.zeros([1, 5], dtype: dtype).transposed().isContiguous)
        #expect(Tensor.zeros([5, 1], dtype: dtype).transposed().isContiguous)
        #expect(x.select(axis: 0, index: 1).isContiguous)
        #expect(Tensor.scalar(1, dtype: dtype).isContiguous)
    }

    @Test(arguments: DType.allCases)
    func viewsReadCorrectlyAfterChains(dtype: DType) {
        // permute -> slice -> select -> expand, all views of one storage; values by index arithmetic.
        let base = Self.iota([3, 4, 5], dtype)
        let v = base.permute([2, 0, 1]).slice(axis: 0, start: 1, end: 5, step: 2).select(axis: 2, index: 3)  // [2, 3]
        // v[i, j] = base[j, 3, 1 + 2i]
        let expected = (0..<6).map { f -> Double in let (i, j) = (f / 3, f % 3); return Double(j * 20 + 3 * 5 + 1 + 2 * i) }
        FwdRef.expectClose(v, expected, shape: [2, 3], dtype: dtype, "view chain")
        FwdRef.expectClose(v.unsqueeze(0).expand(to: [2, 2, 3]), expected + expected, shape: [2, 2, 3], dtype: dtype, "expanded chain")
        #expect(v.toArray() == expected)
    }
}
