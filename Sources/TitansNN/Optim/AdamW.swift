import Foundation

/// Adam with decoupled weight decay (Loshchilov & Hutter, "Decoupled Weight Decay Regularization").
///
/// For every parameter `p` with gradient `g`, at step `t` (counted from 1):
///
///     m ← β₁·m + (1 − β₁)·g
///     v ← β₂·v + (1 − β₂)·g²
///     m̂ = m / (1 − β₁ᵗ),  v̂ = v / (1 − β₂ᵗ)
///     p ← p − lr·(m̂ / (√v̂ + ε) + wd·p)        (wd only for parameters chosen by `decays`)
///
/// The decay uses `p` from before the step, as PyTorch's `AdamW` does. Parameters are updated in place
/// (`Tensor.assign(_:)`) with gradient recording off, so models keep their tensors.
///
/// ```swift
/// let optimizer = AdamW(model.namedParameters(), learningRate: 3e-4, weightDecay: 0.1)
/// loss.backward()
/// optimizer.step(learningRate: schedule(step))
/// optimizer.zeroGradients()
/// ```
public final class AdamW {
    /// The parameters being optimised, each at most once (a tensor listed under a second name is dropped).
    public let parameters: [(name: String, tensor: Tensor)]
    /// The learning rate used by ``step(learningRate:)`` when none is passed.
    public var learningRate: Double
    /// Decay rate of the first moment (mean of gradients).
    public var beta1: Double
    /// Decay rate of the second moment (mean of squared gradients).
    public var beta2: Double
    /// Added to `√v̂` to keep the update finite.
    public var epsilon: Double
    /// The decoupled weight-decay coefficient, applied to parameters chosen by the predicate.
    public var weightDecay: Double
    /// The number of steps taken so far (the `t` of the bias corrections is this plus one during a step).
    public private(set) var stepCount = 0

    /// Whether each parameter, in the order of ``parameters``, gets weight decay.
    public let decayMask: [Bool]
    private var firstMoments: [Tensor]
    private var secondMoments: [Tensor]

    /// Prefixes of the names in ``state``.
    static let firstMomentPrefix = "adamw.m."
    static let secondMomentPrefix = "adamw.v."
    /// The name of the step count in ``state`` (a 0-d float64 tensor; exact for counts below 2⁵³).
    public static let stepCountName = "adamw.step"

    /// The default choice of parameters to decay: matrices and higher-rank weights, not biases, norm gains or
    /// other vectors and scalars.
    public static func decaysMatrices(name: String, tensor: Tensor) -> Bool { tensor.rank >= 2 }

    /// - Parameters:
    ///   - parameters: named parameters, e.g. `model.namedParameters()`. Names must be distinct; a tensor that
    ///     appears again under another name (tied weights) is optimised once, under its first name.
    ///   - learningRate: the step size (each step may pass its own).
    ///   - beta1: the decay of the first moment.
    ///   - beta2: the decay of the second moment.
    ///   - epsilon: added to the second moment's root.
    ///   - weightDecay: the decoupled decay, times the learning rate, of the parameters `decays` chooses.
    ///   - decays: which parameters get weight decay (default: rank ≥ 2).
    public init(_ parameters: [(name: String, tensor: Tensor)], learningRate: Double = 1e-3,
                beta1: Double = 0.9, beta2: Double = 0.95, epsilon: Double = 1e-8, weightDecay: Double = 0.1,
                decays: (_ name: String, _ tensor: Tensor) -> Bool = AdamW.decaysMatrices) {
        precondition((0..<1).contains(beta1) && (0..<1).contains(beta2),
                     "AdamW: beta1 (\(beta1)) and beta2 (\(beta2)) must lie in [0, 1)")
        precondition(epsilon >= 0 && weightDecay >= 0 && learningRate >= 0,
                     "AdamW: learningRate, epsilon and weightDecay must not be negative")
        var names = Set<String>()
        var seen = Set<ObjectIdentifier>()
        var kept: [(name: String, tensor: Tensor)] = []
        for (name, tensor) in parameters {
            precondition(names.insert(name).inserted, "AdamW: parameter name \"\(name)\" is given more than once")
            if seen.insert(ObjectIdentifier(tensor)).inserted { kept.append((name, tensor)) }
        }
        self.parameters = kept
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.weightDecay = weightDecay
        decayMask = kept.map { decays($0.name, $0.tensor) }
        firstMoments = kept.map { Tensor.zeros(like: $0.tensor) }
        secondMoments = kept.map { Tensor.zeros(like: $0.tensor) }
    }

    /// Updates every parameter that has a gradient (those whose `grad` is nil are left alone, moments included)
    /// with `learningRate`, or ``learningRate`` when it is nil, and counts one step.
    public func step(learningRate: Double? = nil) {
        let lr = learningRate ?? self.learningRate
        stepCount += 1
        let t = Double(stepCount)
        let firstCorrection = 1 - pow(beta1, t)
        let secondCorrection = 1 - pow(beta2, t)
        withoutGradients {
            for (i, (name, p)) in parameters.enumerated() {
                guard let gradient = p.grad else { continue }
                precondition(gradient.shape == p.shape, "AdamW: gradient of \"\(name)\" has shape \(gradient.shape), parameter \(p.shape)")
                let decay = decayMask[i] ? weightDecay : 0
                if p.dtype == .float32 && gradient.dtype == .float32 && p.isContiguous && gradient.isContiguous {
                    fusedFloatStep(p, gradient, firstMoments[i], secondMoments[i], lr: lr, decay: decay,
                                   firstCorrection: firstCorrection, secondCorrection: secondCorrection)
                    continue
                }
                let g = gradient.to(p.dtype)
                let m = firstMoments[i] * beta1 + g * (1 - beta1)
                let v = secondMoments[i] * beta2 + g.squared() * (1 - beta2)
                firstMoments[i].assign(m)
                secondMoments[i].assign(v)
                var update = (m / firstCorrection) / ((v / secondCorrection).sqrt() + epsilon)
                if decay != 0 { update = update + p * decay }
                p.assign(p - update * lr)
            }
        }
    }

    /// The same update in one pass over contiguous float32 data (the common case), without temporaries.
    private func fusedFloatStep(_ p: Tensor, _ g: Tensor, _ m: Tensor, _ v: Tensor, lr: Double, decay: Double,
                                firstCorrection: Double, secondCorrection: Double) {
        let (b1, b2, eps) = (Float(beta1), Float(beta2), Float(epsilon))
        let (c1, c2, rate, wd) = (Float(1 / firstCorrection), Float(1 / secondCorrection), Float(lr), Float(decay))
        let n = p.count
        p.withUnsafeMutableFloatPointer { pp in
            g.withUnsafeFloatPointer { gp in
                m.withUnsafeMutableFloatPointer { mp in
                    v.withUnsafeMutableFloatPointer { vp in
                        for j in 0..<n {
                            let gj = gp[j]
                            let mj = b1 * mp[j] + (1 - b1) * gj
                            let vj = b2 * vp[j] + (1 - b2) * gj * gj
                            mp[j] = mj
                            vp[j] = vj
                            let step = (mj * c1) / ((vj * c2).squareRoot() + eps) + wd * pp[j]
                            pp[j] -= rate * step
                        }
                    }
                }
            }
        }
    }

    /// Clears every parameter's gradient (sets it to nil), ready for the next backward pass.
    public func zeroGradients() {
        for (_, p) in parameters { p.grad = nil }
    }

    // MARK: State

    /// Copies of the moments as named tensors (`"adamw.m.<name>"`, `"adamw.v.<name>"`) and the step count
    /// (`"adamw.step"`), for checkpoints. Later steps do not change the returned tensors.
    public var state: [(name: String, tensor: Tensor)] {
        var out: [(name: String, tensor: Tensor)] = [(Self.stepCountName, Tensor.scalar(Double(stepCount), dtype: .float64))]
        for (i, (name, _)) in parameters.enumerated() {
            out.append((Self.firstMomentPrefix + name, Self.copy(firstMoments[i])))
            out.append((Self.secondMomentPrefix + name, Self.copy(secondMoments[i])))
        }
        return out
    }

    /// Checks that `state` fits this optimiser: every moment present with its parameter's shape and dtype,
    /// nothing else, and a valid step count. Changes nothing.
    public func validateState(_ state: [(name: String, tensor: Tensor)]) throws {
        var byName: [String: Tensor] = [:]
        for (name, tensor) in state {
            if byName.updateValue(tensor, forKey: name) != nil { throw OptimizerStateError.duplicateTensor(name: name) }
        }
        guard let step = byName.removeValue(forKey: Self.stepCountName) else {
            throw OptimizerStateError.missingTensor(name: Self.stepCountName)
        }
        let value = step.count == 1 ? step.toArray()[0] : -1
        guard step.count == 1, value >= 0, value == value.rounded(), value < 0x1p53 else {
            throw OptimizerStateError.invalidStepCount(description: step.count == 1 ? "\(value)" : "shape \(step.shape)")
        }
        for (name, p) in parameters {
            for key in [Self.firstMomentPrefix + name, Self.secondMomentPrefix + name] {
                guard let moment = byName.removeValue(forKey: key) else { throw OptimizerStateError.missingTensor(name: key) }
                if moment.shape != p.shape {
                    throw OptimizerStateError.shapeMismatch(name: key, expected: p.shape, found: moment.shape)
                }
                if moment.dtype != p.dtype {
                    throw OptimizerStateError.dtypeMismatch(name: key, expected: p.dtype, found: moment.dtype)
                }
            }
        }
        if let extra = byName.keys.sorted().first { throw OptimizerStateError.unexpectedTensor(name: extra) }
    }

    /// Replaces the moments and step count with those in `state` (as made by ``state``), after checking
    /// all of it with ``validateState(_:)``: when it throws, nothing has changed.
    public func loadState(_ state: [(name: String, tensor: Tensor)]) throws {
        try validateState(state)
        let byName = Dictionary(state.map { ($0.name, $0.tensor) }, uniquingKeysWith: { first, _ in first })
        stepCount = Int(byName[Self.stepCountName]!.toArray()[0])
        for (i, (name, _)) in parameters.enumerated() {
            firstMoments[i].assign(byName[Self.firstMomentPrefix + name]!)
            secondMoments[i].assign(byName[Self.secondMomentPrefix + name]!)
        }
    }

    private static func copy(_ t: Tensor) -> Tensor {
        let c = Tensor.zeros(like: t)
        c.assign(t)
        return c
    }
}

/// Why optimiser state could not be loaded. Each message says what is wrong and what to do.
///
/// ```swift
/// do { try optimizer.loadState(state) } catch let error as OptimizerStateError { print(error) }
/// ```
public enum OptimizerStateError: Error, CustomStringConvertible, Equatable, Sendable {
    case missingTensor(name: String)
    case unexpectedTensor(name: String)
    case duplicateTensor(name: String)
    case shapeMismatch(name: String, expected: [Int], found: [Int])
    case dtypeMismatch(name: String, expected: DType, found: DType)
    case invalidStepCount(description: String)

    private static let advice = "the optimizer state belongs to a different model; restore the matching model "
        + "configuration, or restore the weights only and start the optimizer afresh"

    public var description: String {
        switch self {
        case .missingTensor(let name):
            return "optimizer state lacks \"\(name)\"; " + Self.advice
        case .unexpectedTensor(let name):
            return "optimizer state holds \"\(name)\", which matches no parameter of this optimizer; " + Self.advice
        case .duplicateTensor(let name):
            return "optimizer state holds \"\(name)\" more than once; it is damaged — use an earlier checkpoint"
        case .shapeMismatch(let name, let expected, let found):
            return "optimizer state \"\(name)\" has shape \(found) but the parameter has shape \(expected); " + Self.advice
        case .dtypeMismatch(let name, let expected, let found):
            return "optimizer state \"\(name)\" has dtype \(found) but the parameter has dtype \(expected); "
                + "convert the model to \(found), or restore the weights only and start the optimizer afresh"
        case .invalidStepCount(let found):
            return "optimizer step count \"\(AdamW.stepCountName)\" is \(found), not a non-negative whole number; "
                + "the state is damaged — use an earlier checkpoint"
        }
    }
}
