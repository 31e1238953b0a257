import Foundation
import TitansNN

extension MemoryUpdate {
    /// The one-token step of ``recurrent(_:_:_:chunkSize:rule:)`` in plain loops over the elements, one sequence and
    /// head at a time: the token's gradient factors at the chunk's start, its step size, the carried scalars and the
    /// factored steps advanced, and the read through them — the same cursor and read as the op path, which it replaces
    /// while decoding (about ninety small ops per token and memory become a dozen tensors). `nil` where it does not
    /// apply: recording gradients, another device than the CPU, float64, or a cursor whose parts are not shaped as the
    /// one-token step leaves them; the op path runs there. Tested equal to the op path in float64 (FusedRecurrentTests).
    static func fusedRecurrent(_ mlp: MemoryMLP, _ token: MemoryStream, _ cursor: MemoryCursor, chunkSize: Int,
                               rule: StepRule) -> (Tensor, MemoryCursor)? {
        guard let step = FusedRecurrentStep(mlp, token, cursor, rule: rule) else { return nil }
        return step.run(chunkSize: chunkSize)
    }
}

extension MemoryUpdate {
    /// `mlp`'s read of one query per sequence and head `[B, H, 1, d]` from fixed `weights` (``MemoryMLP`` called as a
    /// function: MAC's retrieval, Eq. 21) in the fused step's loops; `nil` where the fused step does not apply.
    static func fusedRead(_ mlp: MemoryMLP, _ weights: [Tensor], _ queries: Tensor) -> Tensor? {
        guard !GradMode.isEnabled, ComputeDevice.current == .cpu, !mlp.residualNorm, queries.dtype == .float32,
              queries.rank == 4, queries.shape[2] == 1, weights.count == mlp.matrixCount else { return nil }
        let (b, h, width) = (queries.shape[0], queries.shape[1], queries.shape[3])
        guard weights.allSatisfy({ $0.rank == 4 && ($0.shape[0] == 1 || $0.shape[0] == b) && $0.shape[1] == h && $0.dtype == .float32 }),
              weights[0].shape[2] == width, weights[mlp.depth - 1].shape[3] == width else { return nil }
        let matrices = weights.map { $0.contiguous() }, widths = matrices.map { (input: $0.shape[2], output: $0.shape[3]) }
        let reads = Tensor.zeros([b, h, 1, width])
        Tensor.withUnsafeFloatPointers([queries.contiguous()] + matrices) { p in
            Tensor.withUnsafeMutableFloatPointers([reads]) { out in
                let scratch = FusedScratch(widths: widths, factors: 0)
                defer { scratch.deallocate() }
                for pair in 0..<(b * h) {
                    let rows = matrices.indices.map { p[$0 + 1] + matrixOffset(matrices[$0].shape, pair: pair, heads: h) }
                    let parts = FusedReadParts(beta: 1, carriedSurprise: 0, rho: 1, weights: rows, surprise: [], anchor: [], earlierWeights: [],
                                               earlierSurprise: [], factorInputs: [], factorDeltas: [], weightRows: [], factors: 0)
                    scratch.read(mlp, query: p[0] + pair * width, parts: parts, into: out[0] + pair * width)
                }
            }
        }
        return reads
    }
}

/// The tensors one fused step reads, checked and made contiguous, and the loops over them
/// (``MemoryUpdate/fusedRecurrent(_:_:_:chunkSize:rule:)``). Shapes: B sequences, H heads, head width d, matrix l of
/// the memory `in_l × out_l`; n the chunk's tokens already factored.
private struct FusedRecurrentStep {
    let mlp: MemoryMLP
    let rule: StepRule
    let cursor: MemoryCursor
    let (batch, heads, width): (Int, Int, Int)
    let widths: [(input: Int, output: Int)]
    /// The memory's parameter tensors: its matrices, then the residual wrapper's gain `[1 or B, H, 1, d]` if it has one.
    let parameters: Int
    /// Each parameter tensor's rows and columns: the matrices', then the gain's (one row).
    let shapes: [(input: Int, output: Int)]
    /// Tokens already in the chunk's factored steps.
    let factored: Int
    /// Whether θ differs per parameter tensor (one pair of coefficient rows each) or is shared (one pair for all).
    let perMatrixRates: Bool

    /// Every tensor read, in one list (``Slots`` names the positions).
    private var inputs: [Tensor] = []
    private var slots = Slots()

    /// Positions in ``inputs``; -1 where a part is absent.
    private struct Slots {
        var query = 0, key = 0, value = 0, learningRate = 0, momentum = -1, retention = -1
        var chunkStart: [Int] = [], weights: [Int] = [], surprise: [Int] = [], anchor: [Int] = []
        var earlierWeights: [Int] = [], earlierSurprise: [Int] = []
        var carried = -1  // retention β, momentum a, carried surprise c at carried, carried + 1, carried + 2
        var factorInputs: [Int] = [], factorDeltas: [Int] = [], weightRows: [Int] = [], surpriseRows: [Int] = []
        var factorGains = -1
        var load = -1
    }

    init?(_ mlp: MemoryMLP, _ token: MemoryStream, _ cursor: MemoryCursor, rule: StepRule) {
        guard token.length == 1, !GradMode.isEnabled, ComputeDevice.current == .cpu, token.keys.dtype == .float32,
              token.keys.rank == 4 else { return nil }
        (self.mlp, self.rule, self.cursor) = (mlp, rule, cursor)
        (batch, heads, width) = (token.keys.shape[0], token.keys.shape[1], token.keys.shape[3])
        widths = cursor.gradientWeights.prefix(mlp.matrixCount).map { (input: $0.shape[2], output: $0.shape[3]) }
        parameters = mlp.matrixCount + (mlp.residualNorm ? 1 : 0)
        shapes = widths + (mlp.residualNorm ? [(input: 1, output: width)] : [])
        perMatrixRates = rule == .layerNormalized
        factored = cursor.pending?.gradients.inputs.first?.shape[2] ?? 0
        let (b, h, shapes) = (batch, heads, shapes)

        func add(_ t: Tensor, _ shape: [Int]) -> Int? {
            guard t.shape == shape, t.dtype == .float32 else { return nil }
            inputs.append(t.contiguous())
            return inputs.count - 1
        }
        /// A memory tensor `[1 or B, H, in, out]`.
        func addMatrix(_ t: Tensor, _ l: Int) -> Int? {
            guard l < shapes.count, t.rank == 4, t.shape[0] == 1 || t.shape[0] == b else { return nil }
            return add(t, [t.shape[0], h, shapes[l].input, shapes[l].output])
        }
        guard cursor.gradientWeights.count == parameters, cursor.state.weights.count == parameters,
              widths.first?.input == width, widths[mlp.depth - 1].output == width,
              let query = add(token.queries, [b, h, 1, width]), let key = add(token.keys, [b, h, 1, width]),
              let value = add(token.values, [b, h, 1, width]), let rate = add(token.learningRate, [b, h, 1]) else { return nil }
        (slots.query, slots.key, slots.value, slots.learningRate) = (query, key, value, rate)
        if let m = token.logMomentum { guard let i = add(m, [b, h, 1]) else { return nil }; slots.momentum = i }
        if let r = token.logRetention { guard let i = add(r, [b, h, 1]) else { return nil }; slots.retention = i }
        for l in 0..<parameters {
            guard let start = addMatrix(cursor.gradientWeights[l], l), let w = addMatrix(cursor.state.weights[l], l),
                  let s = addMatrix(cursor.state.surprise[l], l) else { return nil }
            slots.chunkStart.append(start)
            slots.weights.append(w)
            slots.surprise.append(s)
            if let anchor = mlp.anchor?.weights {  // M₀, when forgetting decays toward it
                guard l < anchor.count, let a = addMatrix(anchor[l], l) else { return nil }
                slots.anchor.append(a)
            }
        }
        if let earlier = cursor.steps {
            guard earlier.weights.count == parameters else { return nil }
            for l in 0..<parameters {
                guard let w = addMatrix(earlier.weights[l], l), let s = addMatrix(earlier.surprise[l], l) else { return nil }
                slots.earlierWeights.append(w)
                slots.earlierSurprise.append(s)
            }
        }
        switch (cursor.carriedScale, cursor.pending) {
        case (nil, nil): break
        case let (scale?, pending?):
            let n = factored, rows = perMatrixRates ? parameters : 1, matrices = mlp.matrixCount
            guard (pending.gradients.gain != nil) == mlp.residualNorm, pending.gradients.inputs.count == matrices,
                  pending.gradients.deltas.count == matrices, pending.weightCoefficients.count == parameters,
                  pending.surpriseCoefficients.count == parameters,
                  let beta = add(scale.retention, [b, h, 1, 1]), add(scale.momentum, [b, h, 1, 1]) != nil,
                  add(scale.surprise, [b, h, 1, 1]) != nil else { return nil }
            slots.carried = beta
            for l in 0..<matrices {
                guard let x = add(pending.gradients.inputs[l], [b, h, n, widths[l].input]),
                      let d = add(pending.gradients.deltas[l], [b, h, n, widths[l].output]) else { return nil }
                slots.factorInputs.append(x)
                slots.factorDeltas.append(d)
            }
            if let gain = pending.gradients.gain {
                guard let g = add(gain, [b, h, n, width]) else { return nil }
                slots.factorGains = g
            }
            for l in 0..<rows {
                guard let w = add(pending.weightCoefficients[l], [b, h, n]), let s = add(pending.surpriseCoefficients[l], [b, h, n])
                else { return nil }
                slots.weightRows.append(w)
                slots.surpriseRows.append(s)
            }
        default: return nil
        }
        if rule.chunkBound != nil, let load = cursor.load {
            guard let i = add(load, [b, h]) else { return nil }
            slots.load = i
        }
    }

    /// The step and the read for every sequence and head; the chunk closed after its last token, as the op path does.
    func run(chunkSize: Int) -> (Tensor, MemoryCursor) {
        let matrices = mlp.matrixCount, rows = perMatrixRates ? parameters : 1, n = factored + 1
        let (b, h, pairs) = (batch, heads, batch * heads)
        let reads = Tensor.zeros([b, h, 1, width])
        let newInputs = widths.map { Tensor.zeros([b, h, n, $0.input]) }, newDeltas = widths.map { Tensor.zeros([b, h, n, $0.output]) }
        let newGains = mlp.residualNorm ? Tensor.zeros([b, h, n, width]) : nil
        let weightRows = (0..<rows).map { _ in Tensor.zeros([b, h, n]) }, surpriseRows = (0..<rows).map { _ in Tensor.zeros([b, h, n]) }
        let carried = (0..<3).map { _ in Tensor.zeros([b, h, 1, 1]) }  // β, a, c
        let rowScale = Tensor.zeros([b, h]), load = Tensor.zeros([b, h])
        // A token that ends its chunk forms the memory the chunk leaves here too (MemoryCursor.closeChunk), in one pass.
        let closes = cursor.tokens + 1 == chunkSize
        let closed = closes ? (0..<(2 * parameters)).map { Tensor.zeros([b, h, shapes[$0 % parameters].input, shapes[$0 % parameters].output]) } : []
        let outputs = [reads] + newInputs + newDeltas + weightRows + surpriseRows + carried + [rowScale, load] + (newGains.map { [$0] } ?? [])
            + closed

        Tensor.withUnsafeFloatPointers(inputs) { p in
            Tensor.withUnsafeMutableFloatPointers(outputs) { o in
                let (oInputs, oDeltas) = (Array(o[1...matrices]), Array(o[(matrices + 1)...(2 * matrices)]))
                let oWeights = Array(o[(2 * matrices + 1)...(2 * matrices + rows)])
                let oSurprise = Array(o[(2 * matrices + rows + 1)...(2 * matrices + 2 * rows)])
                let scalars = 2 * matrices + 2 * rows + 1
                let (oCarried, oRowScale, oLoad) = (Array(o[scalars...(scalars + 2)]), o[scalars + 3], o[scalars + 4])
                let oGains = newGains != nil ? o[scalars + 5] : nil
                let oClosed = Array(o.suffix(closed.count))
                let scratch = FusedScratch(widths: widths, factors: n)
                defer { scratch.deallocate() }
                for pair in 0..<pairs {
                    func matrix(_ slot: Int) -> UnsafePointer<Float> { p[slot] + matrixOffset(inputs[slot].shape, pair: pair, heads: heads) }
                    // The token's gradient factors at the chunk's start (MemoryMLP.gradientFactors) and its step size.
                    let sizes = scratch.gradient(mlp, key: p[slots.key] + pair * width, value: p[slots.value] + pair * width,
                                                 chunkStart: slots.chunkStart.map(matrix))
                    let eta: Float? = slots.momentum >= 0 ? Foundation.exp(p[slots.momentum][pair]) : nil
                    let surprise = slots.surprise.map(matrix)
                    // The carry bound's |cos| with the surprise carried into the chunk (the cursor's, as the op path reads it).
                    let alignment = rule.readsSurpriseAlignment
                        ? scratch.surpriseAlignment(surprise: surprise, squaredGradientNorm: sizes.squaredGradientNorm) : 1
                    let step = FusedStepSize(rule: rule, theta: p[slots.learningRate][pair], momentum: eta, sizes: sizes, alignment: alignment,
                                             carriedLoad: slots.load >= 0 ? p[slots.load][pair] : 0, parameters: parameters,
                                             chunkSize: chunkSize)
                    (oRowScale[pair], oLoad[pair]) = (step.rowScale, step.load)
                    // The carried scalars and the factored steps advanced (MemoryUpdate.fusedStep, CarriedScale.advance,
                    // FactoredSteps.appending): a ← η a, β ← (1 − α) β, c ← (1 − α) c + a; s ← [η s, θ], w ← [(1 − α) w + η s, θ].
                    let keep: Float? = slots.retention >= 0 ? Foundation.exp(p[slots.retention][pair]) : nil
                    var (beta, a, c): (Float, Float, Float) = slots.carried >= 0
                        ? (p[slots.carried][pair], p[slots.carried + 1][pair], p[slots.carried + 2][pair]) : (1, 1, 0)
                    a = eta.map { a * $0 } ?? 0
                    if let keep { (beta, c) = (beta * keep, c * keep + a) } else { c += a }
                    (oCarried[0][pair], oCarried[1][pair], oCarried[2][pair]) = (beta, a, c)
                    for g in 0..<rows {
                        for m in 0..<factored {
                            let s = p[slots.surpriseRows[g]][pair * factored + m], w = p[slots.weightRows[g]][pair * factored + m]
                            let carriedSurprise = eta.map { s * $0 } ?? 0
                            oSurprise[g][pair * n + m] = carriedSurprise
                            oWeights[g][pair * n + m] = (keep.map { w * $0 } ?? w) + carriedSurprise
                        }
                        (oSurprise[g][pair * n + factored], oWeights[g][pair * n + factored]) = (step.rates[g], step.rates[g])
                    }
                    for l in 0..<matrices {
                        let (input, output) = widths[l]
                        if factored > 0 {
                            (oInputs[l] + pair * n * input).update(from: p[slots.factorInputs[l]] + pair * factored * input, count: factored * input)
                            (oDeltas[l] + pair * n * output).update(from: p[slots.factorDeltas[l]] + pair * factored * output, count: factored * output)
                        }
                        (oInputs[l] + (pair * n + factored) * input).update(from: scratch.layerInputs[l], count: input)
                        (oDeltas[l] + (pair * n + factored) * output).update(from: scratch.deltas[l], count: output)
                    }
                    if let oGains {  // the residual wrapper's gain: its gradient itself, a row per token
                        if factored > 0 { (oGains + pair * n * width).update(from: p[slots.factorGains] + pair * factored * width, count: factored * width) }
                        (oGains + (pair * n + factored) * width).update(from: scratch.gainGradient, count: width)
                    }
                    // The query's read through the carried state and the factored steps (MemoryUpdate.read).
                    let parts = FusedReadParts(
                        beta: beta, carriedSurprise: c, rho: step.rowScale,
                        weights: slots.weights.map(matrix), surprise: surprise, anchor: slots.anchor.map(matrix),
                        earlierWeights: slots.earlierWeights.map(matrix), earlierSurprise: slots.earlierSurprise.map(matrix),
                        factorInputs: (0..<matrices).map { UnsafePointer(oInputs[$0] + pair * n * widths[$0].input) },
                        factorDeltas: (0..<matrices).map { UnsafePointer(oDeltas[$0] + pair * n * widths[$0].output) },
                        factorGains: oGains.map { UnsafePointer($0 + pair * n * width) },
                        weightRows: (0..<parameters).map { UnsafePointer(oWeights[perMatrixRates ? $0 : 0] + pair * n) }, factors: n)
                    scratch.read(mlp, query: p[slots.query] + pair * width, parts: parts, into: o[0] + pair * width)
                    if closes {
                        scratch.close(parts, momentum: a, surpriseRows: (0..<parameters).map { UnsafePointer(oSurprise[perMatrixRates ? $0 : 0] + pair * n) },
                                      weights: (0..<parameters).map { oClosed[$0] + pair * shapes[$0].input * shapes[$0].output },
                                      surprise: (0..<parameters).map { oClosed[parameters + $0] + pair * shapes[$0].input * shapes[$0].output })
                    }
                }
            }
        }
        if closes {
            return (reads, MemoryCursor(start: MemoryState(weights: Array(closed.prefix(parameters)), surprise: Array(closed.suffix(parameters)))))
        }

        var next = cursor
        next.carriedScale = CarriedScale(retention: carried[0], momentum: carried[1], surprise: carried[2], anchor: mlp.anchor)
        next.pending = FactoredSteps(gradients: TokenGradients(inputs: newInputs, deltas: newDeltas, gain: newGains),
                                     weightCoefficients: perMatrixRates ? weightRows : Array(repeating: weightRows[0], count: parameters),
                                     surpriseCoefficients: perMatrixRates ? surpriseRows : Array(repeating: surpriseRows[0], count: parameters))
        let bounded = rule.chunkBound != nil
        next.rowScale = bounded ? rowScale : nil
        next.endTokens(load: bounded ? load : nil, chunkSize: chunkSize)
        return (reads, next)
    }
}

/// Where sequence-and-head `pair` (b · H + h) finds its matrix in a memory tensor of `shape` `[1 or B, H, in, out]`.
private func matrixOffset(_ shape: [Int], pair: Int, heads: Int) -> Int {
    (shape[0] == 1 ? pair % heads : pair) * shape[2] * shape[3]
}

/// One token's step sizes for one sequence and head (``StepRule/stepSizes(learningRate:logMomentum:parameterCount:sizes:carriedLoad:chunkSize:)``
/// for n = 1, in scalars): θ per coefficient row, ρ (1 without a chunk bound) and the chunk's load after the token;
/// `momentum` η, `nil` without momentum; `alignment` the carry bound's c (``GradientSizes/surpriseAlignment``).
private struct FusedStepSize {
    var rates: [Float]
    var rowScale: Float = 1
    var load: Float = 0

    init(rule: StepRule, theta: Float, momentum: Float?, sizes: FusedGradientSizes, alignment: Float, carriedLoad: Float,
         parameters: Int, chunkSize: Int) {
        let epsilon = Float(GradientSizes.epsilon)
        switch rule {
        case .plain: rates = [theta]
        case .chunkMean: rates = [theta * (1 / Float(chunkSize))]
        case .layerNormalized:  // the residual wrapper's gain, with no layer input, keeps θ
            rates = (0..<parameters).map { $0 < sizes.inputs.count ? theta / (sizes.inputs[$0] + epsilon) : theta }
        case .curvatureNormalized: rates = [theta / (sizes.curvature + epsilon)]
        case .gradientClipped(let maxNorm):
            let c = Float(maxNorm)
            rates = [theta * (1 / Swift.max(sizes.squaredGradientNorm, c * c).squareRoot()) * c]
        case .chunkBounded(let bound), .momentumBounded(let bound), .carryBounded(let bound):
            rates = [theta]
            var tokenLoad = theta * sizes.curvature
            func gap(_ momentum: Float) -> Float { Swift.max(1 - momentum, Float(StepRule.smallestMomentumGap)) }
            switch (rule, momentum) {
            case (.momentumBounded, let momentum?): tokenLoad /= gap(momentum)  // θκ / (1 − η)
            case (.carryBounded, let momentum?): tokenLoad *= 1 + alignment * momentum / gap(momentum)  // θκ (1 + c η / (1 − η))
            default: break
            }
            load = tokenLoad + carriedLoad
            rowScale = Float(bound) / Swift.max(load, Float(bound))
        }
    }
}

/// The sizes the step rules read (``GradientSizes``), for one token, sequence and head.
private struct FusedGradientSizes {
    var inputs: [Float]
    var squaredGradientNorm: Float
    var curvature: Float
}

/// What one sequence and head's read takes: the carried state's scalars (β, c) and ρ, the memory's parameter tensors
/// (the carried state — its surprise empty for a read of the weights alone —, M₀ with forgetting toward it, the
/// chunk's earlier steps if any; the matrices, then the residual wrapper's gain) and the factored steps (per matrix
/// the tokens' inputs and deltas, the gain's gradients, per parameter tensor the weight coefficients; `factors` tokens).
private struct FusedReadParts {
    let beta: Float, carriedSurprise: Float, rho: Float
    let weights: [UnsafePointer<Float>], surprise: [UnsafePointer<Float>], anchor: [UnsafePointer<Float>]
    let earlierWeights: [UnsafePointer<Float>], earlierSurprise: [UnsafePointer<Float>]
    let factorInputs: [UnsafePointer<Float>], factorDeltas: [UnsafePointer<Float>]
    var factorGains: UnsafePointer<Float>? = nil
    let weightRows: [UnsafePointer<Float>]
    let factors: Int
}

/// Working rows, reused by every sequence and head: each matrix's input x_l, pre-activation a_l and delta δ_l, two
/// rows for a read, a read's coefficients (of the weights, the surprise, the `factors` factored steps), and for the
/// residual wrapper the normalised output, the loss's gradient, the gain's gradient and the gain a read takes. The
/// products with the matrices run in ``RowProducts`` (AVX2 and FMA where the CPU has them).
private struct FusedScratch {
    let widths: [(input: Int, output: Int)]
    let layerInputs: [UnsafeMutablePointer<Float>], preActivations: [UnsafeMutablePointer<Float>], deltas: [UnsafeMutablePointer<Float>]
    let steps: UnsafeMutablePointer<Float>, row: UnsafeMutablePointer<Float>
    let weightCoefficients: UnsafeMutablePointer<Float>, surpriseCoefficients: UnsafeMutablePointer<Float>
    let factorCoefficients: UnsafeMutablePointer<Float>
    let normalized: UnsafeMutablePointer<Float>, outputGradient: UnsafeMutablePointer<Float>
    let gainGradient: UnsafeMutablePointer<Float>, gain: UnsafeMutablePointer<Float>
    private let all: [UnsafeMutablePointer<Float>]

    init(widths: [(input: Int, output: Int)], factors: Int) {
        self.widths = widths
        let widest = widths.map { Swift.max($0.input, $0.output) }.max() ?? 0
        func allocate(_ count: Int) -> UnsafeMutablePointer<Float> {
            let p = UnsafeMutablePointer<Float>.allocate(capacity: Swift.max(count, 1))
            p.initialize(repeating: 0, count: Swift.max(count, 1))
            return p
        }
        layerInputs = widths.map { allocate($0.input) }
        preActivations = widths.map { allocate($0.output) }
        deltas = widths.map { allocate($0.output) }
        (steps, row) = (allocate(widest), allocate(2 * widest))
        (weightCoefficients, surpriseCoefficients, factorCoefficients) = (allocate(widest), allocate(widest), allocate(factors))
        let width = widths.first?.input ?? 0
        (normalized, outputGradient, gainGradient, gain) = (allocate(width), allocate(width), allocate(width), allocate(width))
        all = layerInputs + preActivations + deltas + [steps, row, weightCoefficients, surpriseCoefficients, factorCoefficients,
                                                       normalized, outputGradient, gainGradient, gain]
    }

    func deallocate() { all.forEach { $0.deallocate() } }

    /// The token's gradient factors at the chunk-start parameter tensors `chunkStart` (``MemoryMLP/gradientFactors(_:keys:values:)``)
    /// into ``layerInputs`` and ``deltas`` (and ``gainGradient`` with the residual wrapper), and the sizes the step
    /// rules read.
    func gradient(_ mlp: MemoryMLP, key: UnsafePointer<Float>, value: UnsafePointer<Float>,
                  chunkStart: [UnsafePointer<Float>]) -> FusedGradientSizes {
        let depth = mlp.depth, width = widths[0].input
        layerInputs[0].update(from: key, count: width)
        for l in 0..<depth {
            RowProducts.weightedRows(rows: widths[l].input, columns: widths[l].output, layerInputs[l], chunkStart[l], into: preActivations[l])
            if l < depth - 1 {
                activate(mlp.activation, preActivations[l], into: layerInputs[l + 1], count: widths[l].output)
            }
        }
        // M(k), then dℓ/dM(k) (InnerLoss.outputGradient; the last layer's delta without the residual wrapper) and the
        // objective's curvature factor.
        let out = row, delta = deltas[depth - 1], error = mlp.residualNorm ? outputGradient : delta
        out.update(from: preActivations[depth - 1], count: width)
        if mlp.shortcut {
            layerInputs[depth].update(from: key, count: width)
            RowProducts.weightedRows(rows: width, columns: width, layerInputs[depth], chunkStart[depth], into: steps)
            for i in 0..<width { out[i] += steps[i] }
        }
        let wrapperGain = chunkStart[mlp.matrixCount...].first  // the residual wrapper's gain g, when there is one
        var inverseDeviation: Float = 1
        if let wrapperGain {  // M(k) = k + n ⊙ (g + 1), n the MLP's output layer-normalised (MemoryMLP.wrap)
            inverseDeviation = layerNormalize(out, into: normalized, count: width)
            for i in 0..<width { out[i] = normalized[i] * (wrapperGain[i] + 1) + key[i] }
        }
        var curvatureFactor: Float = 1
        switch mlp.loss {
        case .squaredError: for i in 0..<width { error[i] = (out[i] - value[i]) * 2 }
        case .dotProduct: for i in 0..<width { error[i] = -value[i] }
        case .lp(let p):
            let p = Float(p)
            var curved: Float = 0, squared: Float = 0
            for i in 0..<width {
                let e = out[i] - value[i]
                let g = (e > 0 ? 1 : e < 0 ? -1 : 0) * Foundation.pow(Swift.abs(e), p - 1) * p
                error[i] = g
                curved += g * g * Foundation.pow(Swift.abs(e), p - 2) * (p * (p - 1))
                squared += g * g
            }
            if p > 2 { curvatureFactor = Swift.max(curved * 0.5 / (squared + Float(GradientSizes.epsilon)), 1) }
        case .huber(let delta):
            let d = Float(delta)
            for i in 0..<width { error[i] = Swift.min(Swift.max(out[i] - value[i], -d), d) * 2 }
        }
        if let wrapperGain {  // dℓ/dg = e' ⊙ n; δ = (e − mean e − n mean(e ⊙ n)) σ⁻¹ with e = e' ⊙ (g + 1), e' = dℓ/dM(k)
            var (meanE, meanEN): (Float, Float) = (0, 0)
            for i in 0..<width {
                gainGradient[i] = error[i] * normalized[i]
                delta[i] = error[i] * (wrapperGain[i] + 1)
                (meanE, meanEN) = (meanE + delta[i], meanEN + delta[i] * normalized[i])
            }
            (meanE, meanEN) = (meanE / Float(width), meanEN / Float(width))
            for i in 0..<width { delta[i] = (delta[i] - meanE - normalized[i] * meanEN) * inverseDeviation }
        }
        // Back through the layers: δ_{l−1} = (δ_l W_lᵀ) ⊙ σ'(a_{l−1}); the shortcut's delta is the MLP output's.
        for l in stride(from: depth - 1, to: 0, by: -1) {
            let (input, output) = widths[l]
            RowProducts.rowDots(rows: input, columns: output, chunkStart[l], deltas[l], into: deltas[l - 1])
            for i in 0..<input { deltas[l - 1][i] *= activationDerivative(mlp.activation, preActivations[l - 1][i]) }
        }
        if mlp.shortcut { deltas[depth].update(from: delta, count: width) }
        let inputNorms = widths.indices.map { RowProducts.dot(layerInputs[$0], layerInputs[$0], widths[$0].input) }
        let parameterNorms = widths.indices.map { inputNorms[$0] * RowProducts.dot(deltas[$0], deltas[$0], widths[$0].output) }
            + (wrapperGain == nil ? [] : [RowProducts.dot(gainGradient, gainGradient, width)])
        let gradientNorm = parameterNorms.dropFirst().reduce(parameterNorms[0], +)
        return FusedGradientSizes(inputs: inputNorms, squaredGradientNorm: gradientNorm,
                                  curvature: gradientNorm / (RowProducts.dot(error, error, width) + Float(GradientSizes.epsilon)) * curvatureFactor)
    }

    /// |⟨u, S⟩| / √max(‖u‖² ‖S‖², ε), at most 1 (``GradientSizes/aligned(for:surprise:products:)``): the cosine of the
    /// token's gradient u, factored in ``layerInputs``, ``deltas`` and ``gainGradient`` by ``gradient(_:key:value:chunkStart:)``,
    /// with `surprise` S (per parameter tensor), ‖u‖² its `squaredGradientNorm`; ⟨x_l δ_lᵀ, S_l⟩ = x_l · (S_l δ_l).
    func surpriseAlignment(surprise: [UnsafePointer<Float>], squaredGradientNorm: Float) -> Float {
        var (product, surpriseNorm): (Float, Float) = (0, 0)
        for (l, (input, output)) in widths.enumerated() {
            RowProducts.rowDots(rows: input, columns: output, surprise[l], deltas[l], into: steps)
            product += RowProducts.dot(layerInputs[l], steps, input)
            surpriseNorm += RowProducts.dot(surprise[l], surprise[l], input * output)
        }
        if let gain = surprise[widths.count...].first {  // the residual wrapper's gain: its gradient itself
            let width = widths[0].input
            product += RowProducts.dot(gainGradient, gain, width)
            surpriseNorm += RowProducts.dot(gain, gain, width)
        }
        return Swift.min(Swift.abs(product) / Swift.max(squaredGradientNorm * surpriseNorm, Float(GradientSizes.epsilon)).squareRoot(), 1)
    }

    /// The query read from the memory after the token's step, never formed (``MemoryUpdate`` `read`): through each
    /// matrix, β z M + c z S (+ (1 − β) z M₀) − ρ (Σ_m w_m (z·x_m) δ_m + β z E_W + c z E_S), E the chunk's earlier steps.
    func read(_ mlp: MemoryMLP, query: UnsafePointer<Float>, parts: FusedReadParts, into out: UnsafeMutablePointer<Float>) {
        let width = widths[0].input, widest = widths.map { Swift.max($0.input, $0.output) }.max() ?? 0
        /// `input` through matrix `l` into `result`.
        func through(_ input: UnsafePointer<Float>, _ l: Int, into result: UnsafeMutablePointer<Float>) {
            let (inputs, outputs) = widths[l]
            let (weight, surprise) = (weightCoefficients, surpriseCoefficients)
            let surpriseRow = UnsafePointer(surprise)
            for i in 0..<inputs { (weight[i], surprise[i]) = (parts.beta * input[i], parts.carriedSurprise * input[i]) }
            RowProducts.weightedRows(rows: inputs, columns: outputs, weight, parts.weights[l],
                                     plus: parts.surprise.isEmpty ? nil : (surpriseRow, parts.surprise[l]), into: result)
            let earlier = !parts.earlierWeights.isEmpty
            if earlier {
                RowProducts.weightedRows(rows: inputs, columns: outputs, weight, parts.earlierWeights[l],
                                         plus: (surpriseRow, parts.earlierSurprise[l]), into: steps)
            }
            if !parts.anchor.isEmpty {
                for i in 0..<inputs { weight[i] = (1 - parts.beta) * input[i] }
                RowProducts.weightedRows(rows: inputs, columns: outputs, weight, parts.anchor[l], into: result, accumulate: true)
            }
            guard earlier || parts.factors > 0 else { return }
            if parts.factors > 0 {  // Σ_m w_m (z·x_m) δ_m
                RowProducts.rowDots(rows: parts.factors, columns: inputs, parts.factorInputs[l], input, into: factorCoefficients)
                for m in 0..<parts.factors { factorCoefficients[m] *= parts.weightRows[l][m] }
                RowProducts.weightedRows(rows: parts.factors, columns: outputs, factorCoefficients, parts.factorDeltas[l], into: steps,
                                         accumulate: earlier)
            }
            for j in 0..<outputs { result[j] -= parts.rho * steps[j] }
        }
        // Two rows in turn: a layer's input and its output.
        var (z, next) = (row, row + widest)
        z.update(from: query, count: width)
        for l in 0..<mlp.depth {
            through(z, l, into: next)
            if l < mlp.depth - 1 { activate(mlp.activation, next, into: next, count: widths[l].output) }
            swap(&z, &next)
        }
        if mlp.shortcut {
            through(query, mlp.depth, into: next)
            for i in 0..<width { z[i] += next[i] }
        }
        if mlp.residualNorm {  // the wrapper's gain as the matrices are read, then q + LN(z) ⊙ (gain + 1)
            let g = mlp.matrixCount, earlier = !parts.earlierWeights.isEmpty
            for i in 0..<width {
                var carried = parts.beta * parts.weights[g][i]
                if !parts.surprise.isEmpty { carried += parts.carriedSurprise * parts.surprise[g][i] }
                if !parts.anchor.isEmpty { carried += (1 - parts.beta) * parts.anchor[g][i] }
                var taken: Float = earlier ? parts.beta * parts.earlierWeights[g][i] + parts.carriedSurprise * parts.earlierSurprise[g][i] : 0
                if let factorGains = parts.factorGains {
                    for m in 0..<parts.factors { taken += parts.weightRows[g][m] * factorGains[m * width + i] }
                }
                gain[i] = carried - parts.rho * taken
            }
            layerNormalize(z, into: normalized, count: width)
            for i in 0..<width { z[i] = normalized[i] * (gain[i] + 1) + query[i] }
        }
        out.update(from: z, count: width)
    }
}

extension FusedScratch {
    /// The memory a chunk leaves (``MemoryCursor/closeChunk()``, `carried.minus(chunkSteps, scaledBy: ρ)`), formed for one
    /// sequence and head from the read's `parts` after the chunk's last token: per parameter tensor, row by row,
    /// M' = β M + c S (+ (1 − β) M₀) − ρ (β E_W + c E_S + Σ_m w_m x_mᵀ δ_m) and S' = a S − ρ (a E_S + Σ_m s_m x_mᵀ δ_m),
    /// a the carried momentum and s the surprise coefficients `surpriseRows` (the gain's x_m is 1, its δ_m the gradient).
    func close(_ parts: FusedReadParts, momentum a: Float, surpriseRows: [UnsafePointer<Float>], weights: [UnsafeMutablePointer<Float>],
               surprise: [UnsafeMutablePointer<Float>]) {
        let (beta, c, rho) = (parts.beta, parts.carriedSurprise, parts.rho)
        let earlier = !parts.earlierWeights.isEmpty, anchored = !parts.anchor.isEmpty
        for l in weights.indices {
            let gain = l == widths.count  // the residual wrapper's gain, after the matrices
            let (rows, columns) = gain ? (1, widths[0].input) : widths[l]
            guard let deltas = gain ? parts.factorGains : parts.factorDeltas[l] else { continue }
            /// Row i of the chunk's steps with token coefficients `coefficients` (−ρ times them) added to `into`:
            /// row i of Σ_m c_m x_mᵀ δ_m is Σ_m (c_m x_m[i]) δ_m.
            func addSteps(_ coefficients: UnsafePointer<Float>, row i: Int, into: UnsafeMutablePointer<Float>) {
                for k in 0..<parts.factors { factorCoefficients[k] = -rho * coefficients[k] * (gain ? 1 : parts.factorInputs[l][k * rows + i]) }
                RowProducts.weightedRows(rows: parts.factors, columns: columns, factorCoefficients, deltas, into: into, accumulate: true)
            }
            for i in 0..<rows {
                let (m, s, w, t) = (parts.weights[l] + i * columns, parts.surprise[l] + i * columns, weights[l] + i * columns,
                                    surprise[l] + i * columns)
                for j in 0..<columns { (w[j], t[j]) = (beta * m[j] + c * s[j], a * s[j]) }
                if anchored { for j in 0..<columns { w[j] += (1 - beta) * parts.anchor[l][i * columns + j] } }
                if earlier {
                    let (ew, es) = (parts.earlierWeights[l] + i * columns, parts.earlierSurprise[l] + i * columns)
                    for j in 0..<columns { (w[j], t[j]) = (w[j] - rho * (beta * ew[j] + c * es[j]), t[j] - rho * a * es[j]) }
                }
                addSteps(parts.weightRows[l], row: i, into: w)
                addSteps(surpriseRows[l], row: i, into: t)
            }
        }
    }
}

/// `x` layer-normalised without affine parameters into `y`, (x − mean) / √(var + ε) with ε ``MemoryMLP/normEpsilon``
/// (as `layerNormalized`); returns 1 / √(var + ε).
@discardableResult
private func layerNormalize(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, count: Int) -> Float {
    var mean: Float = 0
    for i in 0..<count { mean += x[i] }
    mean /= Float(count)
    var variance: Float = 0
    for i in 0..<count {
        y[i] = x[i] - mean
        variance += y[i] * y[i]
    }
    let inverseDeviation = 1 / (variance / Float(count) + Float(MemoryMLP.normEpsilon)).squareRoot()
    for i in 0..<count { y[i] *= inverseDeviation }
    return inverseDeviation
}

/// σ over `count` values of `source` into `target` (which may be `source`): SiLU a·sigmoid(a) or GELU a·Φ(a) as the
/// ops `silu()` and `gelu()` compute them (``VectorMath``) — the op path's activations, in the fused loops.
private func activate(_ activation: NeuralMemoryConfiguration.Activation, _ source: UnsafePointer<Float>,
                      into target: UnsafeMutablePointer<Float>, count: Int) {
    if source != UnsafePointer(target) { target.update(from: source, count: count) }
    VectorMath.applyInPlace(activation == .silu ? .silu : .gelu, to: target, count: count)
}

/// σ'(a) (``MemoryMLP/activationDerivative(_:)``).
@inline(__always) private func activationDerivative(_ activation: NeuralMemoryConfiguration.Activation, _ a: Float) -> Float {
    switch activation {
    case .silu:
        let s = 1 / (1 + Foundation.exp(-a))
        return s * (1 + a * (1 - s))
    case .gelu:
        let cdf = (VectorMath.erf(a * Float(0.5).squareRoot()) + 1) * 0.5
        let density = VectorMath.exp(a * a * -0.5) * (1 / (2 * Float.pi).squareRoot())
        return cdf + a * density
    }
}
