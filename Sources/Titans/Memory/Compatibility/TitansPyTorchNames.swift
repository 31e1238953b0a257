import TitansNN

extension TitansPyTorchMemory {
    /// How a titans-pytorch parameter's layout maps onto ours.
    ///
    /// ```swift
    /// for (name, tensor, layout) in memory.titansPyTorchParameters() { print(name, tensor.shape, layout) }
    /// ```
    public enum Layout: Sendable {
        case same
        /// `nn.Linear` stores `[out, in]`; `Linear` stores `[in, out]`.
        case transposed
        /// Per-head gains stored `[H, 1, d]` there, `[H, d]` here.
        case headGain
    }

    /// Every parameter under its titans-pytorch name (`named_parameters()` of its `NeuralMemory`), with the layout
    /// difference. titans-pytorch's `memory_model.*` template copies are not listed: its forward pass never reads them.
    public func titansPyTorchParameters() -> [(name: String, tensor: Tensor, layout: Layout)] {
        var list: [(String, Tensor, Layout)] = []
        if let retrieveNorm, let storeNorm {
            list += [("retrieve_norm.weight", retrieveNorm.weight, .same), ("store_norm.weight", storeNorm.weight, .same)]
        }
        if let readNormGain { list.append(("multihead_rmsnorm.gamma", readNormGain, .headGain)) }
        if let queryNormGain, let keyNormGain {
            list += [("q_norm.gamma", queryNormGain, .headGain), ("k_norm.gamma", keyNormGain, .headGain)]
        }
        if let combineHeads, let readGate {
            list += [("combine_heads.weight", combineHeads.weight, .transposed), ("retrieve_gate.0.weight", readGate.weight, .transposed)]
        }
        list.append(("memory_model_parameters.0", initialGain, .same))
        for (l, w) in initialMemory.enumerated() { list.append(("memory_model_parameters.\(l + 1)", w, .same)) }
        list += [("to_queries.weight", query.weight, .transposed), ("to_keys.weight", key.weight, .transposed),
                 ("to_values.weight", value.weight, .transposed),
                 ("to_adaptive_step.0.weight", learningRateGate.weight, .transposed),
                 ("to_adaptive_step.0.bias", learningRateGate.bias!, .same)]
        if let momentumGate {
            list += [("to_momentum.0.weight", momentumGate.weight, .transposed), ("to_momentum.0.bias", momentumGate.bias!, .same)]
        }
        list += [("to_decay_factor.0.weight", forgettingGate.weight, .transposed), ("to_decay_factor.0.bias", forgettingGate.bias!, .same)]
        return list
    }
}

extension TitansPyTorchMemory.Layout {
    /// A titans-pytorch tensor in our layout.
    public func toOurs(_ t: Tensor) -> Tensor {
        switch self {
        case .same: return t
        case .transposed: return t.transposed()
        case .headGain: return t.reshape([t.shape[0], t.shape[2]])
        }
    }

    /// One of our tensors in titans-pytorch's layout.
    public func toTheirs(_ t: Tensor) -> Tensor {
        switch self {
        case .same: return t
        case .transposed: return t.transposed()
        case .headGain: return t.unsqueeze(1)
        }
    }
}
