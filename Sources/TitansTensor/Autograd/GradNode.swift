/// What the backward rule of an op receives: the gradient flowing into its output,
/// the output itself (for rules like exp whose derivative is the output), and which inputs need a gradient.
struct BackwardContext {
    let grad: Tensor
    let inputs: [Tensor]
    let output: Tensor
    let needs: [Bool]
}

/// One recorded op: its inputs and its backward rule. Every rule is written with differentiable
/// tensor ops, so a gradient computed with `createGraph: true` can be differentiated again.
final class GradNode {
    let name: String
    private(set) var inputs: [Tensor]
    let backward: (BackwardContext) -> [Tensor?]
    /// For a slice: where its gradient lands in its input's, so a first-order backward pass adds it there in place
    /// instead of through `backward` (zeros of the input's size per slice: quadratic over a sequence read in chunks).
    let window: Window?

    /// Elements `start, start + step, …` before `end` along `axis` of an input of `inputShape`.
    struct Window {
        let inputShape: [Int]
        let axis: Int, start: Int, end: Int, step: Int
    }

    init(name: String, inputs: [Tensor], window: Window? = nil, backward: @escaping (BackwardContext) -> [Tensor?]) {
        self.name = name
        self.inputs = inputs
        self.window = window
        self.backward = backward
    }

    /// Releasing a long history recursively (node, its input tensor, that tensor's node, …) would overflow
    /// the stack for graphs thousands of ops deep, so the ancestors this node alone keeps alive are
    /// unlinked here one at a time.
    deinit {
        var pending = inputs
        inputs = []
        while var tensor = pending.popLast() {
            guard isKnownUniquelyReferenced(&tensor), let node = tensor.gradNode else { continue }
            tensor.gradNode = nil
            pending.append(contentsOf: node.inputs)
            node.inputs = []
        }
    }
}

extension Tensor {
    /// Attaches the history of an op to its freshly computed `result` when recording is on
    /// and some input requires a gradient; returns `result`.
    @inline(__always)
    static func record(_ result: Tensor, _ name: String, _ inputs: [Tensor], window: GradNode.Window? = nil,
                       backward: @escaping (BackwardContext) -> [Tensor?]) -> Tensor {
        if GradMode.isEnabled, inputs.contains(where: { $0.requiresGrad }) {
            result.gradNode = GradNode(name: name, inputs: inputs, window: window, backward: backward)
        }
        return result
    }

    /// A tensor sharing this one's storage with no history: gradients stop here.
    public func detach() -> Tensor {
        Tensor(storage: storage, shape: shape, strides: strides, offset: offset)
    }
}
