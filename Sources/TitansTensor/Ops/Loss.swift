/// Losses over logits.
extension Tensor {
    /// Mean cross-entropy of logits `[..., classes]` against integer `targets` of shape `[...]`.
    public func crossEntropy(targets: IndexTensor) -> Tensor {
        precondition(rank >= 1 && targets.shape == Array(shape.dropLast()),
                     "crossEntropy: targets of shape \(targets.shape) for logits of shape \(shape)")
        return -logSoftmax(axis: -1).take(alongAxis: -1, indices: targets).mean()
    }
}
