import RealModule

/// Elementwise functions of one tensor, their kernels and their backward rules.
enum UnaryFunction {
    case negate, exp, log, sqrt, rsqrt, abs, tanh, sigmoid, silu, gelu, relu, softplus, erf, sign
    /// `x * scale + shift`
    case affine(scale: Double, shift: Double)
    /// `x ^ exponent`
    case power(Double)
    case clamp(lower: Double, upper: Double)

    var name: String {
        switch self {
        case .negate: return "negate"
        case .exp: return "exp"
        case .log: return "log"
        case .sqrt: return "sqrt"
        case .rsqrt: return "rsqrt"
        case .abs: return "abs"
        case .tanh: return "tanh"
        case .sigmoid: return "sigmoid"
        case .silu: return "silu"
        case .gelu: return "gelu"
        case .relu: return "relu"
        case .softplus: return "softplus"
        case .erf: return "erf"
        case .sign: return "sign"
        case .affine: return "affine"
        case .power: return "pow"
        case .clamp: return "clamp"
        }
    }

    /// Writes `f(x)` into `out` (same shape, contiguous).
    func apply<T: TensorScalar>(_ x: Tensor, into out: Tensor, _: T.Type) {
        typealias K = ElementwiseKernels
        typealias E = ElementFunctions
        if T.self == Float.self, applyVectorised(x, into: out) { return }
        switch self {
        case .negate: K.map(x, into: out, E.Negate<T>())
        case .exp: K.map(x, into: out, E.Exp<T>())
        case .log: K.map(x, into: out, E.Log<T>())
        case .sqrt: K.map(x, into: out, E.Sqrt<T>())
        case .rsqrt: K.map(x, into: out, E.Rsqrt<T>())
        case .abs: K.map(x, into: out, E.Abs<T>())
        case .tanh: K.map(x, into: out, E.Tanh<T>())
        case .sigmoid: K.map(x, into: out, E.Sigmoid<T>())
        case .silu: K.map(x, into: out, E.Silu<T>())
        case .gelu: K.map(x, into: out, E.Gelu<T>())
        case .relu: K.map(x, into: out, E.Relu<T>())
        case .softplus: K.map(x, into: out, E.Softplus<T>())
        case .erf: K.map(x, into: out, E.Erf<T>())
        case .sign: K.map(x, into: out, E.Sign<T>())
        case let .affine(scale, shift): K.map(x, into: out, E.Affine<T>(scale: T(scale), shift: T(shift)))
        case let .power(p):
            if p == 2 {
                K.map(x, into: out, E.Square<T>())
            } else if p == p.rounded(), Swift.abs(p) <= 0x1p31 {
                // Integer exponents by repeated multiplication: defined for negative bases (the real-exponent
                // pow is exp(p log x), NaN for x < 0) and with 0^0 = 1, as the gradient of x^1 needs.
                K.map(x, into: out, E.IntegerPower<T>(exponent: Int(p)))
            } else {
                K.map(x, into: out, E.RealPower<T>(exponent: T(p)))
            }
        case let .clamp(lower, upper): K.map(x, into: out, E.Clamp<T>(lower: T(lower), upper: T(upper)))
        }
    }

    /// The float32 fast path through ``VectorMath`` for the functions that have one; false when this one has none.
    private func applyVectorised(_ x: Tensor, into out: Tensor) -> Bool {
        typealias K = ElementwiseKernels
        typealias E = ElementFunctions
        switch self {
        case .exp: K.map(x, into: out, E.FastExp())
        case .sigmoid: K.map(x, into: out, E.FastSigmoid())
        case .silu: K.map(x, into: out, E.FastSilu())
        default: return false
        }
        return true
    }

    /// The gradient with respect to `x`, written with differentiable ops.
    func gradient(_ x: Tensor, _ y: Tensor, _ g: Tensor) -> Tensor? {
        switch self {
        case .negate: return -g
        case .exp: return g * y
        case .log: return g / x
        case .sqrt: return g / y * 0.5
        case .rsqrt: return g * y * y * y * -0.5
        case .abs: return g * x.sign()
        case .tanh: return g * (1 - y * y)
        case .sigmoid: return g * y * (1 - y)
        case .silu:
            let s = x.sigmoid()
            return g * s * (1 + x * (1 - s))
        case .gelu: // Φ(x) + x φ(x)
            let cdf = ((x * (0.5).squareRoot()).erf() + 1) * 0.5
            let density = (x * x * -0.5).exp() * (1 / (2 * Double.pi).squareRoot())
            return g * (cdf + x * density)
        case .relu: return g * x.greater(than: 0)
        case .softplus: return g * x.sigmoid()
        case .erf: return g * (x * x * -1).exp() * (2 / Double.pi.squareRoot())
        case .sign: return nil
        case let .affine(scale, _): return g * scale
        case let .power(p): return p == 2 ? g * x * 2 : g * x.pow(p - 1) * p
        case let .clamp(lower, upper):
            return g * (x.greaterOrEqual(to: lower) * x.lessOrEqual(to: upper))
        }
    }
}

extension Tensor {
    func unary(_ f: UnaryFunction) -> Tensor {
        OpProfile.measure(f.name) {
            let out = Tensor(uninitializedShape: shape, dtype: dtype)
            switch dtype {
            case .float32: f.apply(self, into: out, Float.self)
            case .float64: f.apply(self, into: out, Double.self)
            }
            if case .sign = f { return out }
            return Tensor.record(out, f.name, [self]) { ctx in [f.gradient(ctx.inputs[0], ctx.output, ctx.grad)] }
        }
    }

    public func exp() -> Tensor { unary(.exp) }
    public func log() -> Tensor { unary(.log) }
    public func sqrt() -> Tensor { unary(.sqrt) }
    /// `1 / sqrt(x)`
    public func rsqrt() -> Tensor { unary(.rsqrt) }
    public func abs() -> Tensor { unary(.abs) }
    public func tanh() -> Tensor { unary(.tanh) }
    public func sigmoid() -> Tensor { unary(.sigmoid) }
    /// `x * sigmoid(x)`
    public func silu() -> Tensor { unary(.silu) }
    /// Exact GELU, `x Φ(x)` with Φ the standard normal CDF.
    public func gelu() -> Tensor { unary(.gelu) }
    public func relu() -> Tensor { unary(.relu) }
    /// `log(1 + exp(x))`
    public func softplus() -> Tensor { unary(.softplus) }
    public func erf() -> Tensor { unary(.erf) }
    /// -1, 0 or 1 by the sign of each element; not differentiable (no history).
    public func sign() -> Tensor { unary(.sign) }
    public func pow(_ exponent: Double) -> Tensor { unary(.power(exponent)) }
    public func squared() -> Tensor { unary(.power(2)) }
    public func clamp(min lower: Double = -.infinity, max upper: Double = .infinity) -> Tensor {
        unary(.clamp(lower: lower, upper: upper))
    }

    public static prefix func - (x: Tensor) -> Tensor { x.unary(.negate) }
    public static func + (x: Tensor, s: Double) -> Tensor { x.unary(.affine(scale: 1, shift: s)) }
    public static func + (s: Double, x: Tensor) -> Tensor { x.unary(.affine(scale: 1, shift: s)) }
    public static func - (x: Tensor, s: Double) -> Tensor { x.unary(.affine(scale: 1, shift: -s)) }
    public static func - (s: Double, x: Tensor) -> Tensor { x.unary(.affine(scale: -1, shift: s)) }
    public static func * (x: Tensor, s: Double) -> Tensor { x.unary(.affine(scale: s, shift: 0)) }
    public static func * (s: Double, x: Tensor) -> Tensor { x.unary(.affine(scale: s, shift: 0)) }
    public static func / (x: Tensor, s: Double) -> Tensor { x.unary(.affine(scale: 1 / s, shift: 0)) }
    public static func / (s: Double, x: Tensor) -> Tensor { x.unary(.power(-1)) * s }
}
