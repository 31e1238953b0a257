import Foundation

extension TrainableModel {
    /// The loss on `batch` (its value), with `scale` × its gradient added to every parameter's `grad` (a parameter the
    /// loss does not reach keeps its `grad`, nil included, as with `backward()`). The batch is cut into one part per
    /// core (``TrainableModel/parts(of:count:)``) whose forward and backward passes run side by side, each on its own
    /// thread (`Parallel.shards`): whole passes per core keep both cores busy where the ops of one pass are too
    /// small to split. The parts' gradients are summed in order, so a result depends on the number of cores only by
    /// float rounding. The parts are as many as the process's cores even on a thread that must keep to one (a model
    /// trained beside others, `titans reproduce --jobs`), which then computes them one after another: the same sums in
    /// the same order, so such a model's numbers do not depend on what runs beside it. Nothing is added when the loss
    /// is not finite. `parts` overrides the number of parts.
    public func accumulateGradients(on batch: Batch, scale: Double, parts count: Int? = nil) -> Double {
        let parts = parts(of: batch, count: count ?? Parallel.threadCount)
        if parts.count <= 1 {
            let loss = self.loss(on: batch)
            let value = loss.item()
            if value.isFinite { (loss * scale).backward() }
            return value
        }
        let parameters = self.parameters().distinctTensors
        let results = Parallel.shards(parts.count) { i -> (value: Double, gradients: [Tensor?]) in
            let loss = self.loss(on: parts[i].batch)
            let value = loss.item()
            guard value.isFinite else { return (value, []) }
            return (value, Tensor.reachedGradients(of: loss * (scale * parts[i].weight), withRespectTo: parameters))
        }
        if let failed = results.first(where: { !$0.value.isFinite }) { return failed.value }
        let value = zip(parts, results).map { $0.weight * $1.value }.reduce(0, +)
        withoutGradients {
            for (j, parameter) in parameters.enumerated() {
                let gradients = results.compactMap { $0.gradients[j] }
                guard let first = gradients.first else { continue }
                let sum = gradients.dropFirst().reduce(first, +)
                parameter.grad = parameter.grad.map { $0 + sum } ?? sum.denseCopy()
            }
        }
        return value
    }

    /// The loss on `batch` without recording gradients, its parts (``TrainableModel/parts(of:count:)``) computed side by
    /// side on the cores; `parts` overrides their number.
    public func evaluationLoss(on batch: Batch, parts count: Int? = nil) -> Double {
        let parts = parts(of: batch, count: count ?? Parallel.threadCount)
        return withoutGradients {
            let values = Parallel.shards(parts.count) { self.loss(on: parts[$0].batch).item() }
            return zip(parts, values).map { $0.weight * $1 }.reduce(0, +)
        }
    }
}

extension Array where Element == Tensor {
    /// Each tensor once, in the order first seen (a tied weight is a parameter under several names).
    var distinctTensors: [Tensor] {
        var seen = Set<ObjectIdentifier>()
        return filter { seen.insert(ObjectIdentifier($0)).inserted }
    }
}
