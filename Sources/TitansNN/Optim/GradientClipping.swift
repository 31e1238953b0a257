/// Gradient clipping and scaling over a set of parameters, applied in place to their `grad`.
///
/// Gradient accumulation needs nothing special: call `backward()` once per micro-batch (gradients add up),
/// then ``scaleGradients(_:by:)`` by `1 / microBatches` before the optimiser step.

/// The global L2 norm of all gradients of `parameters` (those with a nil `grad` are skipped), computed in
/// float64. When it exceeds `maxNorm` every gradient is scaled in place by `maxNorm / norm`, so the global norm
/// becomes `maxNorm`. A NaN or infinite norm is returned as it is and nothing is scaled (skip that step).
///
/// - Returns: the norm before clipping.
@discardableResult
public func clipGradientNorm(_ parameters: [Tensor], maxNorm: Double) -> Double {
    precondition(maxNorm > 0, "clipGradientNorm: maxNorm (\(maxNorm)) must be positive")
    let norm = gradientNorm(parameters)
    if norm.isFinite && norm > maxNorm { scaleGradients(parameters, by: maxNorm / norm) }
    return norm
}

/// The global L2 norm of all gradients of `parameters` (nil gradients skipped), computed in float64.
public func gradientNorm(_ parameters: [Tensor]) -> Double {
    var sumOfSquares = 0.0
    withoutGradients {
        for (p, g) in uniqueGradients(parameters) where p.count > 0 {
            sumOfSquares += g.to(.float64).squared().sum().item()
        }
    }
    return sumOfSquares.squareRoot()
}

/// Multiplies every gradient of `parameters` (nil gradients skipped) by `factor`, in place; e.g. by
/// `1 / microBatches` after accumulating gradients over several backward passes.
public func scaleGradients(_ parameters: [Tensor], by factor: Double) {
    withoutGradients {
        for (_, g) in uniqueGradients(parameters) { g.assign(g * factor) }
    }
}

/// Each parameter with a gradient once, even when the same tensor is listed twice (tied weights).
private func uniqueGradients(_ parameters: [Tensor]) -> [(Tensor, Tensor)] {
    var seen = Set<ObjectIdentifier>()
    return parameters.compactMap { p in
        guard let g = p.grad, seen.insert(ObjectIdentifier(p)).inserted else { return nil }
        return (p, g)
    }
}
