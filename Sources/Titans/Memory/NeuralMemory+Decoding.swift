import Foundation
import TitansNN

/// One token's way into the memory while decoding on the CPU (float32, no gradients recorded): the projections stay
/// matrix–vector products through the BLAS, and what follows them — each projection's causal convolution from its
/// kept inputs, SiLU and the heads' ℓ2 norms (§4.4) — runs in one loop per tensor, as does each gate (a product with
/// a few outputs, then its sigmoid or log-sigmoid), instead of some forty small ops. The same numbers as ``NeuralMemory``'s op path (tested:
/// FusedRecurrentTests), which runs everywhere else.
extension NeuralMemory {
    /// Whether one token `x` `[B, 1, width]` can take the fused way.
    func decodesFused(_ x: Tensor) -> Bool {
        x.shape[1] == 1 && x.dtype == .float32 && !GradMode.isEnabled && ComputeDevice.current == .cpu
    }

    /// The token's queries, keys, values and gates, the convolutions' histories updated.
    func decodingStream(_ x: Tensor, history: inout [Tensor?]) -> MemoryStream {
        let c = configuration
        func perHead(_ t: Tensor) -> Tensor { t.reshape([x.shape[0], c.heads, 1]) }  // [B, 1, H] → [B, H, 1]: one token
        let (rate, momentum, retention) = Self.fusedGates(x, rate: learningRateGate, momentum: momentumGate, forgetting: forgettingGate,
                                                          maxLearningRate: c.maxLearningRate)
        return MemoryStream(
            queries: fusedProjection(query(x), queryConvolution, history: &history[0], normalise: true),
            keys: fusedProjection(key(x), keyConvolution, history: &history[1], normalise: true),
            values: fusedProjection(value(x), valueConvolution, history: &history[2], normalise: false),
            learningRate: perHead(rate), logMomentum: momentum.map(perHead), logRetention: retention.map(perHead))
    }

    /// The projection `h` `[B, 1, heads · headWidth]` of one token through the depthwise causal convolution (from
    /// `history`, the last inputs, which it updates), SiLU and, when `normalise`, each head's ℓ2 norm: `[B, H, 1, d]`
    /// (``NeuralMemory`` `project`).
    func fusedProjection(_ h: Tensor, _ convolution: DepthwiseCausalConvolution?, history: inout Tensor?, normalise: Bool) -> Tensor {
        let (batch, channels, heads, width) = (h.shape[0], h.shape[2], configuration.heads, configuration.headWidth)
        let kernel = convolution?.kernel ?? 1, kept = history?.shape[1] ?? 0
        let keep = Swift.min(kernel - 1, kept + 1)
        let out = Tensor.zeros([batch, heads, 1, width]), nextHistory = Tensor.zeros([batch, keep, channels])
        let inputs = [h.contiguous()] + (convolution.map { [$0.weight.contiguous(), $0.bias.contiguous()] } ?? [])
            + (history.map { [$0.contiguous()] } ?? [])
        Tensor.withUnsafeFloatPointers(inputs) { p in
            Tensor.withUnsafeMutableFloatPointers([out, nextHistory]) { o in
                let (y, next) = (o[0], o[1])
                for b in 0..<batch {
                    let row = y + b * channels, new = p[0] + b * channels
                    /// Row `t` of the stream joined with its history (t = kept is the new token).
                    func joined(_ t: Int) -> UnsafePointer<Float> { t == kept ? new : p[3] + (b * kept + t) * channels }
                    if convolution != nil {  // y_t = bias + Σ_j w_j x_{t − K + 1 + j}, rows before the start 0
                        row.update(from: p[2], count: channels)
                        for j in 0..<kernel where kept - kernel + 1 + j >= 0 {
                            let source = joined(kept - kernel + 1 + j)
                            for channel in 0..<channels { row[channel] += p[1][channel * kernel + j] * source[channel] }
                        }
                    } else {
                        row.update(from: new, count: channels)
                    }
                    VectorMath.applyInPlace(.silu, to: row, count: channels)
                    for t in 0..<keep { (next + (b * keep + t) * channels).update(from: joined(kept + 1 - keep + t), count: channels) }
                    if normalise {  // each head over sqrt(Σ y² + 1e-12), as l2Normalized
                        for head in 0..<heads {
                            let part = row + head * width
                            var squares: Float = 0
                            for i in 0..<width { squares += part[i] * part[i] }
                            let scale = 1 / (squares + 1e-12).squareRoot()
                            for i in 0..<width { part[i] *= scale }
                        }
                    }
                }
            }
        }
        if convolution != nil { history = nextHistory }
        return out
    }

    /// One token's reads `[B, H, 1, d]` through each head's RMSNorm times the gate sigmoid(x W_g) `[B, 1, H·d]`, in one
    /// loop (``NeuralMemory`` `output`, as `normalizeRows` computes the norm): `[B, 1, H, d]`.
    func fusedGatedNorm(_ reads: Tensor, norm: RMSNorm, gate: Tensor) -> Tensor {
        let (batch, heads, width) = (reads.shape[0], reads.shape[1], reads.shape[3])
        let out = Tensor.zeros([batch, 1, heads, width])
        Tensor.withUnsafeFloatPointers([reads.contiguous(), norm.weight.contiguous(), gate.contiguous()]) { p in
            Tensor.withUnsafeMutableFloatPointers([out]) { o in
                let (epsilon, divisor) = (Float(norm.epsilon), Float(width))
                for row in 0..<(batch * heads) {
                    let (r, g, y) = (p[0] + row * width, p[2] + row * width, o[0] + row * width)
                    var squares: Float = 0
                    for i in 0..<width { squares += r[i] * r[i] }
                    let scale = 1 / (squares / divisor + epsilon).squareRoot()
                    for i in 0..<width { y[i] = r[i] * scale * p[1][i] * g[i] }
                }
            }
        }
        return out
    }

    /// θ = θ_max·sigmoid(x W_θ), log η = log sigmoid(x W_η) and log(1 − α) = log sigmoid(−x W_α) for one token `x`
    /// `[B, 1, width]`, each gate's product with `x` (a row of `heads` outputs) and its function in one loop
    /// (log sigmoid(z) = −softplus(−z), softplus(z) = max(z, 0) + log1p(e^−|z|)): `[B, 1, heads]` each.
    static func fusedGates(_ x: Tensor, rate: Linear, momentum: Linear?, forgetting: Linear?, maxLearningRate: Double)
        -> (Tensor, Tensor?, Tensor?) {
        let width = x.shape[x.rank - 1], rows = x.count / Swift.max(width, 1)
        /// f(x W + b) for every row of `x`.
        func gate(_ linear: Linear, _ f: (Float) -> Float) -> Tensor {
            let heads = linear.weight.shape[1]
            let out = Tensor.zeros(Array(x.shape.dropLast()) + [heads])
            let inputs = [x.contiguous(), linear.weight.contiguous()] + (linear.bias.map { [$0.contiguous()] } ?? [])
            Tensor.withUnsafeFloatPointers(inputs) { p in
                Tensor.withUnsafeMutableFloatPointers([out]) { o in
                    for r in 0..<rows {
                        let (z, row) = (o[0] + r * heads, p[0] + r * width)
                        for h in 0..<heads { z[h] = inputs.count > 2 ? p[2][h] : 0 }
                        for i in 0..<width {
                            let weights = p[1] + i * heads
                            for h in 0..<heads { z[h] += row[i] * weights[h] }
                        }
                        for h in 0..<heads { z[h] = f(z[h]) }
                    }
                }
            }
            return out
        }
        func softplus(_ z: Float) -> Float { Swift.max(z, 0) + Foundation.log1p(Foundation.exp(-Swift.abs(z))) }
        let maximum = Float(maxLearningRate)
        return (gate(rate) { maximum / (1 + Foundation.exp(-$0)) }, momentum.map { gate($0) { -softplus(-$0) } },
                forgetting.map { gate($0) { -softplus($0) } })
    }
}
