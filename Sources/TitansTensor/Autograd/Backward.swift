/// Reverse-mode differentiation over the recorded graph.
extension Tensor {
    /// Gradients of `output` with respect to each of `inputs`.
    ///
    /// - Parameters:
    ///   - output: the tensor differentiated.
    ///   - inputs: the tensors to differentiate it with respect to.
    ///   - seed: the gradient flowing into `output` (ones when omitted, so `output` is usually a scalar).
    ///   - createGraph: record the backward computation, so the returned gradients can be
    ///     differentiated again (like PyTorch's `create_graph=True`).
    /// - Returns: one gradient per input, zeros where `output` does not depend on it.
    public static func gradients(of output: Tensor, withRespectTo inputs: [Tensor],
                                 seed: Tensor? = nil, createGraph: Bool = false) -> [Tensor] {
        let grads = propagate(from: output, seed: seed, createGraph: createGraph, keep: Set(inputs.map(ObjectIdentifier.init)))
        return inputs.map { input in
            grads[ObjectIdentifier(input)] ?? Tensor.zeros(input.shape, dtype: input.dtype)
        }
    }

    /// Gradients of `output` with respect to each of `inputs`, `nil` for an input `output` does not depend on (no
    /// recording), without a graph to differentiate again.
    public static func reachedGradients(of output: Tensor, withRespectTo inputs: [Tensor]) -> [Tensor?] {
        let grads = propagate(from: output, seed: nil, createGraph: false, keep: Set(inputs.map(ObjectIdentifier.init)))
        return inputs.map { grads[ObjectIdentifier($0)] }
    }

    /// Accumulates d(self)/d(leaf) into `grad` of every leaf that requires a gradient.
    public func backward(seed: Tensor? = nil, createGraph: Bool = false) {
        precondition(requiresGrad, "backward: the tensor does not require a gradient (no input required one, or recording was off)")
        var leaves: [Tensor] = []
        let grads = Tensor.propagate(from: self, seed: seed, createGraph: createGraph, keep: nil, leaves: &leaves)
        GradMode.with(enabled: createGraph) {
            for leaf in leaves {
                guard let g = grads[ObjectIdentifier(leaf)] else { continue }
                // A gradient may be the seed itself, shared with another leaf, or a broadcast view: without
                // a graph to keep, each leaf gets its own dense copy, so updating one in place touches nothing else.
                leaf.grad = leaf.grad.map { $0 + g } ?? (createGraph ? g : g.denseCopy())
            }
        }
    }

    private static func propagate(from output: Tensor, seed: Tensor?, createGraph: Bool,
                                  keep: Set<ObjectIdentifier>?) -> [ObjectIdentifier: Tensor] {
        var leaves: [Tensor] = []
        return propagate(from: output, seed: seed, createGraph: createGraph, keep: keep, leaves: &leaves)
    }

    /// Walks the graph in reverse topological order, summing each tensor's incoming gradients before
    /// passing them to its op's backward rule. The targets are the tensors in `keep`, or every leaf requiring
    /// a gradient when `keep` is nil; only ops on a path to a target run their backward rule, so asking for
    /// the gradient with respect to a recent tensor does not walk the whole history behind it.
    private static func propagate(from output: Tensor, seed: Tensor?, createGraph: Bool,
                                  keep: Set<ObjectIdentifier>?, leaves: inout [Tensor]) -> [ObjectIdentifier: Tensor] {
        let seed = seed ?? Tensor.ones(output.shape, dtype: output.dtype)
        precondition(seed.shape == output.shape, "gradients: seed shape \(seed.shape) differs from output shape \(output.shape)")
        let order = topologicalOrder(from: output)
        // A tensor is needed when it is a target or some input of its op is needed (inputs come first in `order`).
        var needed = Set<ObjectIdentifier>()
        for tensor in order {
            let id = ObjectIdentifier(tensor)
            let isTarget = keep.map { $0.contains(id) } ?? (tensor.isLeaf && tensor.requiresGrad)
            if isTarget || (tensor.gradNode?.inputs.contains { needed.contains(ObjectIdentifier($0)) } ?? false) {
                needed.insert(id)
            }
        }
        var grads: [ObjectIdentifier: Tensor] = [ObjectIdentifier(output): seed]
        // Without a graph to keep, a sum this pass made itself (no rule holds it) takes further terms in place.
        var owned = Set<ObjectIdentifier>()
        func accumulate(_ ig: Tensor, into input: Tensor) {
            let iid = ObjectIdentifier(input)
            guard let existing = grads[iid] else {
                grads[iid] = ig
                owned.remove(iid)
                return
            }
            if !createGraph && owned.contains(iid) {
                existing.backend.binary(.add, existing, ig, into: existing)
            } else {
                grads[iid] = existing + ig
                if !createGraph { owned.insert(iid) }
            }
        }
        /// A slice's gradient added into its window of the input's gradient, made here if there is none yet.
        func accumulate(_ ig: Tensor, into input: Tensor, window w: GradNode.Window) {
            let iid = ObjectIdentifier(input)
            let total: Tensor
            if let existing = grads[iid], owned.contains(iid) {
                total = existing
            } else {
                total = grads[iid]?.denseCopy() ?? Tensor.zeros(w.inputShape, dtype: ig.dtype)
                grads[iid] = total
                owned.insert(iid)
            }
            let part = total.slice(axis: w.axis, start: w.start, end: w.end, step: w.step)
            part.backend.binary(.add, part, ig, into: part)
        }
        var kept: [ObjectIdentifier: Tensor] = [:]
        GradMode.with(enabled: createGraph) {
            for tensor in order.reversed() {
                let id = ObjectIdentifier(tensor)
                guard needed.contains(id), let g = grads.removeValue(forKey: id) else { continue }
                if keep?.contains(id) == true { kept[id] = g }
                guard let node = tensor.gradNode else {
                    if keep == nil {
                        leaves.append(tensor)
                        kept[id] = g
                    }
                    continue
                }
                let needs = node.inputs.map { $0.requiresGrad && needed.contains(ObjectIdentifier($0)) }
                guard needs.contains(true) else { continue }
                if !createGraph, let window = node.window {
                    accumulate(g, into: node.inputs[0], window: window)
                    continue
                }
                let inputGrads = node.backward(BackwardContext(grad: g, inputs: node.inputs, output: tensor, needs: needs))
                precondition(inputGrads.count == node.inputs.count, "\(node.name) backward: returned \(inputGrads.count) gradients for \(node.inputs.count) inputs")
                for (i, (input, ig)) in zip(node.inputs, inputGrads).enumerated() where needs[i] {
                    guard let ig else { continue }
                    precondition(ig.shape == input.shape, "\(node.name) backward: gradient shape \(ig.shape) differs from input shape \(input.shape)")
                    accumulate(ig, into: input)
                }
            }
        }
        return kept
    }

    /// Tensors reachable from `output` through recorded history, each after all of its inputs.
    private static func topologicalOrder(from output: Tensor) -> [Tensor] {
        var order: [Tensor] = []
        var visited = Set<ObjectIdentifier>()
        // Iterative depth-first search: deep graphs (long scans, many chunks) must not overflow the stack.
        var stack: [(Tensor, Int)] = [(output, 0)]
        visited.insert(ObjectIdentifier(output))
        while let (tensor, next) = stack.popLast() {
            let inputs = tensor.gradNode?.inputs ?? []
            if next < inputs.count {
                stack.append((tensor, next + 1))
                let input = inputs[next]
                if input.requiresGrad, visited.insert(ObjectIdentifier(input)).inserted {
                    stack.append((input, 0))
                }
            } else {
                order.append(tensor)
            }
        }
        return order
    }
}
