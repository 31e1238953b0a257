/// Views that share storage: reshape, permute/transpose, slice, expand; and `embed`, the adjoint of slicing.
extension Tensor {
    /// Resolves one `-1` in `newShape` and checks the element count, naming `op` on failure.
    private func resolve(_ newShape: [Int], _ op: String) -> [Int] {
        var resolved = newShape
        if let i = newShape.firstIndex(of: -1) {
            let known = newShape.enumerated().filter { $0.offset != i }.reduce(1) { $0 * $1.element }
            precondition(known > 0 && count % known == 0, "\(op): cannot reshape \(shape) to \(newShape)")
            resolved[i] = count / known
        }
        precondition(Shape.count(resolved) == count && resolved.allSatisfy { $0 >= 0 },
                     "\(op): cannot reshape \(shape) (\(count) elements) to \(newShape)")
        return resolved
    }

    /// Reshape without history: a view when contiguous, else a copy.
    func reshapedData(_ newShape: [Int]) -> Tensor {
        let target = resolve(newShape, "reshape")
        let base = contiguousData()
        return Tensor(storage: base.storage, shape: target, strides: Shape.contiguousStrides(target), offset: base.offset)
    }

    /// The same elements in row-major order with a new shape (one dimension may be -1). A view when contiguous.
    public func reshape(_ newShape: [Int]) -> Tensor {
        if newShape == shape { return self }
        let out = reshapedData(newShape)
        let inputShape = shape
        return Tensor.record(out, "reshape", [self]) { ctx in [ctx.grad.reshape(inputShape)] }
    }

    /// Inserts a dimension of size 1 at `axis` (a view).
    public func unsqueeze(_ axis: Int) -> Tensor {
        let a = Shape.axis(axis, rank: rank + 1, op: "unsqueeze")
        var s = shape, st = strides
        s.insert(1, at: a)
        st.insert(a < rank ? strides[a] * shape[a] : 1, at: a)
        let out = Tensor(storage: storage, shape: s, strides: st, offset: offset)
        return Tensor.record(out, "unsqueeze", [self]) { ctx in [ctx.grad.squeeze(a)] }
    }

    /// Removes the dimension of size 1 at `axis` (a view).
    public func squeeze(_ axis: Int) -> Tensor {
        let a = Shape.axis(axis, rank: rank, op: "squeeze")
        precondition(shape[a] == 1, "squeeze: axis \(axis) of shape \(shape) is not of size 1")
        var s = shape, st = strides
        s.remove(at: a)
        st.remove(at: a)
        let out = Tensor(storage: storage, shape: s, strides: st, offset: offset)
        return Tensor.record(out, "squeeze", [self]) { ctx in [ctx.grad.unsqueeze(a)] }
    }

    /// Reorders the axes: output axis `i` is input axis `order[i]`.
    public func permute(_ order: [Int]) -> Tensor {
        let order = order.map { Shape.axis($0, rank: rank, op: "permute") }
        precondition(order.count == rank && Set(order).count == rank, "permute: \(order) is not a permutation of the axes of \(shape)")
        let out = Tensor(storage: storage, shape: order.map { shape[$0] }, strides: order.map { strides[$0] }, offset: offset)
        var inverse = [Int](repeating: 0, count: rank)
        for (i, o) in order.enumerated() { inverse[o] = i }
        return Tensor.record(out, "permute", [self]) { ctx in [ctx.grad.permute(inverse)] }
    }

    /// Swaps two axes (the last two by default).
    public func transposed(_ a: Int = -2, _ b: Int = -1) -> Tensor {
        var order = Array(0..<rank)
        order.swapAt(Shape.axis(a, rank: rank, op: "transposed"), Shape.axis(b, rank: rank, op: "transposed"))
        return permute(order)
    }

    /// Elements `start, start + step, …` before `end` along `axis` (a view).
    public func slice(axis: Int, start: Int, end: Int, step: Int = 1) -> Tensor {
        let a = Shape.axis(axis, rank: rank, op: "slice")
        precondition(step >= 1 && start >= 0 && start <= end && end <= shape[a],
                     "slice: range \(start)..<\(end) step \(step) invalid for axis \(a) of shape \(shape)")
        var s = shape, st = strides
        s[a] = (end - start + step - 1) / step
        st[a] = strides[a] * step
        let out = Tensor(storage: storage, shape: s, strides: st, offset: offset + start * strides[a])
        let inputShape = shape
        let window = GradNode.Window(inputShape: inputShape, axis: a, start: start, end: end, step: step)
        return Tensor.record(out, "slice", [self], window: window) { ctx in
            [ctx.grad.embed(into: inputShape, axis: a, start: start, step: step)]
        }
    }

    /// Element `index` along `axis`, with that axis removed.
    public func select(axis: Int, index: Int) -> Tensor {
        slice(axis: axis, start: index, end: index + 1).squeeze(axis)
    }

    /// Zeros of `shape` with this tensor placed at `start, start + step, …` along `axis`: the adjoint of ``slice(axis:start:end:step:)``.
    public func embed(into shape: [Int], axis: Int, start: Int, step: Int = 1) -> Tensor {
        let a = Shape.axis(axis, rank: rank, op: "embed")
        let out = Tensor.zeros(shape, dtype: dtype)
        let end = self.shape[a] == 0 ? start : start + (self.shape[a] - 1) * step + 1
        precondition(shape.count == rank && end <= shape[a], "embed: \(self.shape) does not fit \(shape) at axis \(a) from \(start) step \(step)")
        let window = withoutGradients { out.slice(axis: a, start: start, end: end, step: step) }
        precondition(window.shape == self.shape, "embed: \(self.shape) does not fit \(shape) at axis \(a) from \(start) step \(step)")
        Tensor.copyElements(from: self, into: window)
        return Tensor.record(out, "embed", [self]) { ctx in [ctx.grad.slice(axis: a, start: start, end: end, step: step)] }
    }

    /// Zero padding of `before` and `after` elements along `axis`.
    public func padded(axis: Int, before: Int, after: Int) -> Tensor {
        let a = Shape.axis(axis, rank: rank, op: "padded")
        var s = shape
        s[a] += before + after
        return embed(into: s, axis: a, start: before)
    }

    /// Broadcasts to `target` without copying (size-1 and missing leading dims get stride 0).
    public func expand(to target: [Int]) -> Tensor {
        if target == shape { return self }
        precondition(Shape.broadcast(shape, target) == target, "expand: cannot broadcast \(shape) to \(target)")
        let out = Tensor(storage: storage, shape: target, strides: ElementwisePlan.broadcastStrides(self, to: target), offset: offset)
        let inputShape = shape
        return Tensor.record(out, "expand", [self]) { ctx in [ctx.grad.sum(toShape: inputShape)] }
    }
}
