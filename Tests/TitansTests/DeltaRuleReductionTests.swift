import Testing
@testable import Titans

/// The paper's reductions (Appendix C): a matrix memory with no momentum is the gated delta rule,
/// and with no forgetting either it is the delta rule. Both rules are written here as their own small loops.
struct DeltaRuleReductionTests {
    /// W_t = (1 − α_t) W_{t−1} − 2θ_t k_tᵀ (k_t W_{t−1} − v_t), y_t = q_t W_t, per sequence and head (row convention;
    /// the 2 is the derivative of the unhalved loss ‖k W − v‖²). `retention` nil means α ≡ 0: the plain delta rule.
    static func gatedDeltaRule(_ s: MemoryStream, initial: Tensor) -> Tensor {
        let (b, h, t, d) = (s.keys.shape[0], s.keys.shape[1], s.keys.shape[2], s.keys.shape[3])
        var reads = [Double](repeating: 0, count: b * h * t * d)
        let q = s.queries.toArray(), k = s.keys.toArray(), v = s.values.toArray(), theta = s.learningRate.toArray()
        let keep = s.logRetention?.exp().toArray()
        let w0 = initial.toArray()
        for bi in 0..<b {
            for hi in 0..<h {
                var w = Array(w0[(hi * d * d)..<((hi + 1) * d * d)])  // [d, d], row-major
                for ti in 0..<t {
                    let row = ((bi * h + hi) * t + ti) * d, gate = (bi * h + hi) * t + ti
                    // error e = k W − v
                    let e = (0..<d).map { j in (0..<d).reduce(0.0) { $0 + k[row + $1] * w[$1 * d + j] } - v[row + j] }
                    let decay = keep?[gate] ?? 1
                    for i in 0..<d { for j in 0..<d { w[i * d + j] = decay * w[i * d + j] - 2 * theta[gate] * k[row + i] * e[j] } }
                    for j in 0..<d { reads[row + j] = (0..<d).reduce(0.0) { $0 + q[row + $1] * w[$1 * d + j] } }
                }
            }
        }
        return Tensor(shape: [b, h, t, d], reads, dtype: .float64)
    }

    @Test(arguments: [true, false])
    func matrixMemoryWithoutMomentumIsTheGatedDeltaRule(forgetting: Bool) {
        let s = MemoryUpdateTests.setup(depth: 1, momentum: false, forgetting: forgetting, length: 9)
        let reference = Self.gatedDeltaRule(s.stream, initial: s.state.weights[0])
        let chunked = MemoryUpdateTests.chunked(s, chunkSize: 1).0
        let sequential = MemoryUpdate.sequential(s.mlp, s.stream, s.state).0
        #expect(MemoryUpdateTests.maxRelativeError(chunked, reference) < 1e-12)
        #expect(MemoryUpdateTests.maxRelativeError(sequential, reference) < 1e-12)
    }

    /// With chunks of b > 1 the parallel form is the mini-batch rule (gradients at the chunk start), which the
    /// delta rule is not: the two must differ, by an amount that shrinks with the learning rate.
    @Test func chunksOfMoreThanOneTokenAreTheMiniBatchRule() {
        let s = MemoryUpdateTests.setup(depth: 1, momentum: false, forgetting: false, length: 9)
        let reference = Self.gatedDeltaRule(s.stream, initial: s.state.weights[0])
        let chunked = MemoryUpdateTests.chunked(s, chunkSize: 3).0
        #expect(MemoryUpdateTests.maxRelativeError(chunked, reference) > 1e-6)
    }

    /// W_t = (1 − α_t) W_{t−1} + θ_t k_tᵀ v_t, y_t = q_t W_t: linear attention (Eq. 4 with a learning rate), gated
    /// by a scalar forgetting per token (a Mamba2-like recurrence) when `logRetention` is given.
    static func gatedLinearAttention(_ s: MemoryStream, initial: Tensor) -> Tensor {
        let keep = s.logRetention.map { $0.exp().unsqueeze(-1).unsqueeze(-1) }
        var w = initial
        var reads: [Tensor] = []
        for t in 0..<s.length {
            let k = s.keys.slice(axis: 2, start: t, end: t + 1), v = s.values.slice(axis: 2, start: t, end: t + 1)
            let theta = s.learningRate.slice(axis: 2, start: t, end: t + 1).unsqueeze(-1)
            let decay = keep.map { $0.slice(axis: 2, start: t, end: t + 1).squeeze(2) }
            w = (decay.map { w * $0 } ?? w) + k.transposed().matmul(v) * theta
            reads.append(s.queries.slice(axis: 2, start: t, end: t + 1).matmul(w))
        }
        return Tensor.concatenate(reads, axis: 2)
    }

    /// With the dot-product loss the gradient does not depend on the memory, so every chunk size is exact.
    @Test(arguments: [true, false])
    func dotProductLossIsGatedLinearAttention(forgetting: Bool) {
        let s = MemoryUpdateTests.setup(depth: 1, momentum: false, forgetting: forgetting, length: 9, loss: .dotProduct)
        let reference = Self.gatedLinearAttention(s.stream, initial: s.state.weights[0])
        for chunkSize in [1, 3, 9] {
            let chunked = MemoryUpdateTests.chunked(s, chunkSize: chunkSize).0
            #expect(MemoryUpdateTests.maxRelativeError(chunked, reference) < 1e-12)
        }
    }
}
