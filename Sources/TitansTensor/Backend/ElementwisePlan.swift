/// How to walk operands of one broadcast shape in row-major order: the destination (operand 0)
/// and up to three sources, each with its own strides (0 where it is broadcast).
///
/// Dimensions of size 1 are dropped and adjacent dimensions that every operand walks contiguously
/// are merged, so most walks become one long row or a few rows, and kernels see plain inner loops.
struct ElementwisePlan {
    let count: Int
    /// Length of the innermost (merged) dimension.
    let inner: Int
    let outerShape: [Int]
    /// `outerStrides[d][o]`: stride of operand `o` in outer dimension `d`.
    let outerStrides: [[Int]]
    let innerStrides: [Int]
    let offsets: [Int]

    /// `operands[o]` gives the strides of operand `o` already expanded to `shape` (stride 0 where broadcast).
    init(shape: [Int], operands: [(strides: [Int], offset: Int)]) {
        count = Shape.count(shape)
        offsets = operands.map(\.offset)
        var dims: [(size: Int, strides: [Int])] = []
        for d in 0..<shape.count where shape[d] != 1 {
            let s = operands.map { $0.strides[d] }
            if let last = dims.last, zip(last.strides, s).allSatisfy({ $0 == $1 * shape[d] }) {
                dims[dims.count - 1] = (last.size * shape[d], s)
            } else {
                dims.append((shape[d], s))
            }
        }
        if let last = dims.popLast() {
            inner = last.size
            innerStrides = last.strides
        } else {
            inner = 1
            innerStrides = [Int](repeating: 0, count: operands.count)
        }
        outerShape = dims.map(\.size)
        outerStrides = dims.map(\.strides)
    }

    /// Strides of `tensor` expanded to `shape` by broadcasting (size-1 or missing dims get stride 0).
    static func broadcastStrides(_ tensor: Tensor, to shape: [Int]) -> [Int] {
        let lead = shape.count - tensor.rank
        return (0..<shape.count).map { d in
            d < lead || tensor.shape[d - lead] == 1 ? 0 : tensor.strides[d - lead]
        }
    }

    /// Calls `body(offsets, length)` for runs of `length` elements whose operand `o` starts at `offsets[o]`
    /// and advances by `innerStrides[o]`; runs go to both cores when the walk is large.
    @inline(__always)
    func forEachRun(_ body: (UnsafePointer<Int>, Int) -> Void) {
        let n = offsets.count
        let rows = count / max(inner, 1)
        if count == 0 { return }
        if rows == 1 {
            Parallel.forRanges(inner, grain: Parallel.elementwiseGrain) { range in
                withUnsafeTemporaryAllocation(of: Int.self, capacity: n) { start in
                    for o in 0..<n { start[o] = offsets[o] + range.lowerBound * innerStrides[o] }
                    body(UnsafePointer(start.baseAddress!), range.count)
                }
            }
            return
        }
        let grain = max(1, Parallel.elementwiseGrain / max(inner, 1))
        Parallel.forRanges(rows, grain: grain) { range in
            withUnsafeTemporaryAllocation(of: Int.self, capacity: n + outerShape.count) { buffer in
                let position = buffer.baseAddress!, index = position + n
                // Decompose the first row index into an outer multi-index.
                var r = range.lowerBound
                for d in stride(from: outerShape.count - 1, through: 0, by: -1) {
                    index[d] = r % outerShape[d]
                    r /= outerShape[d]
                }
                for o in 0..<n {
                    var p = offsets[o]
                    for d in 0..<outerShape.count { p += index[d] * outerStrides[d][o] }
                    position[o] = p
                }
                for _ in range {
                    body(UnsafePointer(position), inner)
                    // Odometer step to the next row.
                    var d = outerShape.count - 1
                    while d >= 0 {
                        index[d] += 1
                        for o in 0..<n { position[o] += outerStrides[d][o] }
                        if index[d] < outerShape[d] { break }
                        for o in 0..<n { position[o] -= outerStrides[d][o] * outerShape[d] }
                        index[d] = 0
                        d -= 1
                    }
                }
            }
        }
    }
}
