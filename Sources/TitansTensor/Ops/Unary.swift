import RealModule

/// Elementwise functions of one tensor and their backward rules (their kernels: ``CPUBackend``).
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
            backend.unary(f, self, into: out)
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
