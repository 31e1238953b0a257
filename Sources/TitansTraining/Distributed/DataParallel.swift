import Foundation

extension TrainableModel {
    /// This rank's slice of `batch` and its weight (its share of the scored targets): slice `rank` of the parts
    /// ``TrainableModel/parts(of:count:)`` cuts for the group's size, so the ranks' weighted losses sum to the whole
    /// batch's. The whole batch in a group of one; `nil` for a rank past the last slice of a batch too small to give
    /// every rank one (the last validation batch), whose weight is then 0.
    func share(of batch: Batch, in group: any ProcessGroup) -> (batch: Batch, weight: Double)? {
        guard group.size > 1 else { return (batch, 1) }
        let parts = parts(of: batch, count: group.size)
        return group.rank < parts.count ? parts[group.rank] : nil
    }

    /// Whether `batch` can be shared by the group's ranks.
    func canShare(_ batch: Batch, in group: any ProcessGroup) -> Bool {
        group.size == 1 || parts(of: batch, count: group.size).count == group.size
    }
}

/// Every parameter's gradient summed over the ranks, with this rank's weighted loss: each rank's gradient is of its
/// slice's loss times the slice's weight, so the sum is the whole batch's gradient, as one process would compute it
/// (to float rounding of the summation order). A parameter no rank reached keeps no gradient; one reached on some
/// ranks counts zero on the others. Returns the whole batch's loss. A group of one returns `loss` and changes nothing.
func sumOverRanks(gradientsOf parameters: [Tensor], loss: Double, in group: any ProcessGroup) -> Double {
    guard group.size > 1 else { return loss }
    let parameters = parameters.distinctTensors
    // Doubles: the loss, whether each parameter was reached, then the float64 gradients; floats: the float32 ones.
    var doubles = [loss] + parameters.map { $0.grad == nil ? 0 : 1 }, floats: [Float] = []
    for parameter in parameters {
        let count = parameter.count
        switch parameter.dtype {
        case .float32: floats += parameter.grad?.toFloatArray() ?? [Float](repeating: 0, count: count)
        case .float64: doubles += parameter.grad?.toArray() ?? [Double](repeating: 0, count: count)
        }
    }
    group.sum(&doubles)
    group.sum(&floats)
    var (nextFloat, nextDouble) = (0, 1 + parameters.count)
    withoutGradients {
        for (i, parameter) in parameters.enumerated() {
            let count = parameter.count
            let reached = doubles[1 + i] > 0
            switch parameter.dtype {
            case .float32:
                if reached { parameter.grad = Tensor(shape: parameter.shape, Array(floats[nextFloat..<(nextFloat + count)])) }
                nextFloat += count
            case .float64:
                if reached {
                    parameter.grad = Tensor(shape: parameter.shape, Array(doubles[nextDouble..<(nextDouble + count)]), dtype: .float64)
                }
                nextDouble += count
            }
            if !reached { parameter.grad = nil }
        }
    }
    return doubles[0]
}
