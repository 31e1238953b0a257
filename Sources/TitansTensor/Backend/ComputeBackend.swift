/// The seam between the ops and the hardware: every kernel an op runs, and nothing else. The ops (`TitansTensor/Ops`)
/// check shapes, make the output and record the backward rule; a backend fills the output. ``CPUBackend`` is the
/// reference every other backend is tested against.
///
/// Shapes reach a backend already checked. "Lines" are the `[outer, length, inner]` view of a contiguous tensor
/// around one axis (`length` along the axis); outputs are contiguous unless a method says otherwise, and written whole.
protocol ComputeBackend: Sendable {
    /// `out = f(x)`, `x` broadcast to `out`'s shape.
    func unary(_ f: UnaryFunction, _ x: Tensor, into out: Tensor)
    /// `out = f(a, b)`, both broadcast to `out`'s shape.
    func binary(_ f: BinaryFunction, _ a: Tensor, _ b: Tensor, into out: Tensor)
    /// `out = mask != 0 ? a : b`, all three broadcast.
    func select(_ mask: Tensor, _ a: Tensor, _ b: Tensor, into out: Tensor)
    /// `out = a · scale + addend`, all three broadcast.
    func multiplyAdd(_ a: Tensor, _ scale: Tensor, _ addend: Tensor, into out: Tensor)
    /// `out` (which may be a strided view) = `source` broadcast to its shape.
    func copy(_ source: Tensor, into out: Tensor)
    /// `out[..., m, n] = a[..., m, k] · b[..., k, n]`, batch dimensions broadcast; any strides.
    func matmul(_ a: Tensor, _ b: Tensor, into out: Tensor)

    /// `out[o, i] = reduction over the line of x[o, :, i]` (`x` contiguous).
    func reduce(_ reduction: Reduction, _ x: Tensor, outer: Int, length: Int, inner: Int, into out: Tensor)
    /// The index of the first maximum of each line of contiguous `x`, as `[outer · inner]`.
    func argmax(_ x: Tensor, outer: Int, length: Int, inner: Int) -> [Int]
    /// Running sums along each line of contiguous `x` (from the end when `reverse`).
    func cumulativeSum(_ x: Tensor, outer: Int, length: Int, inner: Int, reverse: Bool, into out: Tensor)
    /// `h[t] = a[t] · h[t∓1] + b[t]` along each line from `initial` `[outer, 1, inner]` (all contiguous).
    func linearScan(_ a: Tensor, _ b: Tensor, initial: Tensor, outer: Int, length: Int, inner: Int, reverse: Bool,
                    into out: Tensor)
    /// Softmax (or log-softmax) along each line of contiguous `x`.
    func softmax(_ x: Tensor, outer: Int, length: Int, inner: Int, log: Bool, into out: Tensor)
    /// Each row of contiguous `x` `[rows, width]` over the root of its scaled sum of squares,
    /// `x / sqrt(Σ x² / divisor + epsilon)`, times `weight` `[width]` (contiguous) when given: RMSNorm (divisor = width)
    /// and L2 normalisation (divisor 1) in one pass.
    func normalizeRows(_ x: Tensor, weight: Tensor?, divisor: Double, epsilon: Double, rows: Int, width: Int, into out: Tensor)
    /// Each row of contiguous `x` `[rows, width]` rotated in pairs (c, c + width/2) by the angles of its position
    /// `row % positions`: `out_c = x_c cos − x_{c+h} sin`, `out_{c+h} = x_{c+h} cos + x_c sin`, with `cos` and `sin`
    /// `[positions, width/2]` contiguous (rotary embeddings).
    func rotateHalves(_ x: Tensor, cos: Tensor, sin: Tensor, rows: Int, positions: Int, width: Int, into out: Tensor)

    /// `out[o, j, :] = x[o, indices[j], :]` (`x` contiguous `[outer, length, inner]`, `out` `[outer, indices, inner]`).
    func indexSelect(_ x: Tensor, indices: [Int], outer: Int, length: Int, inner: Int, into out: Tensor)
    /// `out[o, indices[j], :] += x[o, j, :]` into a zeroed `out` `[outer, length, inner]`.
    func indexAdd(_ x: Tensor, indices: [Int], outer: Int, length: Int, inner: Int, into out: Tensor)
    /// `out[o, i] = x[o, indices[o · inner + i], i]`.
    func take(_ x: Tensor, indices: [Int], outer: Int, length: Int, inner: Int, into out: Tensor)
    /// `out[o, indices[o · inner + i], i] += x[o, i]` into a zeroed `out` `[outer, length, inner]`.
    func put(_ x: Tensor, indices: [Int], outer: Int, length: Int, inner: Int, into out: Tensor)
}

extension Tensor {
    /// The backend that computes this tensor's ops: the selected device's (``ComputeDevice``; the CPU's by default).
    var backend: any ComputeBackend { ComputeDevice.backendForOps }
}
