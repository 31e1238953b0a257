import RealModule

/// Elementwise functions of two tensors with NumPy broadcasting, and comparisons producing 0/1 masks.
enum BinaryFunction: String {
    case add, subtract, multiply, divide, pow, maximum, minimum
    case equal, notEqual, less, lessOrEqual, greater, greaterOrEqual

    var isComparison: Bool {
        switch self {
        case .equal, .notEqual, .less, .lessOrEqual, .greater, .greaterOrEqual: return true
        default: return false
        }
    }

    /// Gradients with respect to `a` and `b` before reducing broadcast dimensions.
    func gradients(_ a: Tensor, _ b: Tensor, _ y: Tensor, _ g: Tensor, _ needs: [Bool]) -> (Tensor?, Tensor?) {
        switch self {
        case .add: return (g, g)
        case .subtract: return (g, needs[1] ? -g : nil)
        case .multiply: return (needs[0] ? g * b : nil, needs[1] ? g * a : nil)
        case .divide: return (needs[0] ? g / b : nil, needs[1] ? -(g * y / b) : nil)
        case .pow:
            // d(a^b)/db = a^b log a, taken as 0 where a = 0 (as PyTorch does); log of 1 there keeps higher orders finite.
            let logBase = needs[1] ? Tensor.where(a.equal(to: 0), a.scalarLike(1), a).log() : nil
            return (needs[0] ? g * b * a.pow(b - 1) : nil, logBase.map { g * y * $0 })
        case .maximum, .minimum:
            // The larger (smaller) input takes the gradient; ties split it evenly.
            let wins = self == .maximum ? a.greater(than: b) : a.less(than: b)
            let share = wins + a.equal(to: b) * 0.5
            return (needs[0] ? g * share : nil, needs[1] ? g * (1 - share) : nil)
        default: return (nil, nil)
        }
    }
}

extension Tensor {
    func binary(_ f: BinaryFunction, _ other: Tensor) -> Tensor {
        OpProfile.measure(f.rawValue) {
            expectDType(other, f.rawValue)
            let outShape = Shape.broadcast([shape, other.shape], op: f.rawValue)
            let out = Tensor(uninitializedShape: outShape, dtype: dtype)
            backend.binary(f, self, other, into: out)
            if f.isComparison { return out }
            return Tensor.record(out, f.rawValue, [self, other]) { ctx in
                let (a, b) = (ctx.inputs[0], ctx.inputs[1])
                let (ga, gb) = f.gradients(a, b, ctx.output, ctx.grad, ctx.needs)
                return [ga.map { $0.sum(toShape: a.shape) }, gb.map { $0.sum(toShape: b.shape) }]
            }
        }
    }

    public static func + (a: Tensor, b: Tensor) -> Tensor { a.binary(.add, b) }
    public static func - (a: Tensor, b: Tensor) -> Tensor { a.binary(.subtract, b) }
    public static func * (a: Tensor, b: Tensor) -> Tensor { a.binary(.multiply, b) }
    public static func / (a: Tensor, b: Tensor) -> Tensor { a.binary(.divide, b) }
    public func pow(_ exponent: Tensor) -> Tensor { binary(.pow, exponent) }
    public func maximum(_ other: Tensor) -> Tensor { binary(.maximum, other) }
    public func minimum(_ other: Tensor) -> Tensor { binary(.minimum, other) }

    // Comparisons: 1 where true, 0 where false, in this tensor's dtype; they carry no history.
    public func equal(to other: Tensor) -> Tensor { binary(.equal, other) }
    public func notEqual(to other: Tensor) -> Tensor { binary(.notEqual, other) }
    public func less(than other: Tensor) -> Tensor { binary(.less, other) }
    public func lessOrEqual(to other: Tensor) -> Tensor { binary(.lessOrEqual, other) }
    public func greater(than other: Tensor) -> Tensor { binary(.greater, other) }
    public func greaterOrEqual(to other: Tensor) -> Tensor { binary(.greaterOrEqual, other) }

    public func equal(to value: Double) -> Tensor { binary(.equal, scalarLike(value)) }
    public func less(than value: Double) -> Tensor { binary(.less, scalarLike(value)) }
    public func lessOrEqual(to value: Double) -> Tensor { binary(.lessOrEqual, scalarLike(value)) }
    public func greater(than value: Double) -> Tensor { binary(.greater, scalarLike(value)) }
    public func greaterOrEqual(to value: Double) -> Tensor { binary(.greaterOrEqual, scalarLike(value)) }
    public func maximum(_ value: Double) -> Tensor { binary(.maximum, scalarLike(value)) }
    public func minimum(_ value: Double) -> Tensor { binary(.minimum, scalarLike(value)) }

    /// A 0-d tensor of this tensor's dtype.
    func scalarLike(_ value: Double) -> Tensor { Tensor.scalar(value, dtype: dtype) }

    /// Elements of `a` where `mask` is non-zero, of `b` elsewhere (all three broadcast).
    public static func `where`(_ mask: Tensor, _ a: Tensor, _ b: Tensor) -> Tensor {
        a.expectDType(b, "where")
        a.expectDType(mask, "where")
        let outShape = Shape.broadcast([mask.shape, a.shape, b.shape], op: "where")
        let out = Tensor(uninitializedShape: outShape, dtype: a.dtype)
        a.backend.select(mask, a, b, into: out)
        return record(out, "where", [mask, a, b]) { ctx in
            let (m, g) = (ctx.inputs[0].detach(), ctx.grad)
            let zero = g.scalarLike(0)
            return [nil,
                    ctx.needs[1] ? Tensor.where(m, g, zero).sum(toShape: ctx.inputs[1].shape) : nil,
                    ctx.needs[2] ? Tensor.where(m, zero, g).sum(toShape: ctx.inputs[2].shape) : nil]
        }
    }
}
