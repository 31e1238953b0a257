import RealModule

/// Elementwise functions as types. The kernels are generic over them, so each function is specialised and
/// inlined into the loops — also inside the closures that run on worker threads, where a captured closure
/// value would stay an opaque call per element and stop the loop from vectorising.
protocol UnaryElementFunction {
    associatedtype Scalar: TensorScalar
    func callAsFunction(_ x: Scalar) -> Scalar
}

protocol BinaryElementFunction {
    associatedtype Scalar: TensorScalar
    func callAsFunction(_ a: Scalar, _ b: Scalar) -> Scalar
}

/// The functions behind the elementwise ops (see `Ops/Unary.swift` and `Ops/Binary.swift`).
enum ElementFunctions {
    struct Identity<T: TensorScalar>: UnaryElementFunction { func callAsFunction(_ x: T) -> T { x } }
    struct Negate<T: TensorScalar>: UnaryElementFunction { func callAsFunction(_ x: T) -> T { -x } }
    struct Exp<T: TensorScalar>: UnaryElementFunction { func callAsFunction(_ x: T) -> T { T.exp(x) } }
    struct Log<T: TensorScalar>: UnaryElementFunction { func callAsFunction(_ x: T) -> T { T.log(x) } }
    struct Sqrt<T: TensorScalar>: UnaryElementFunction { func callAsFunction(_ x: T) -> T { x.squareRoot() } }
    struct Rsqrt<T: TensorScalar>: UnaryElementFunction { func callAsFunction(_ x: T) -> T { 1 / x.squareRoot() } }
    struct Abs<T: TensorScalar>: UnaryElementFunction { func callAsFunction(_ x: T) -> T { Swift.abs(x) } }
    struct Tanh<T: TensorScalar>: UnaryElementFunction { func callAsFunction(_ x: T) -> T { T.tanh(x) } }
    struct Erf<T: TensorScalar>: UnaryElementFunction { func callAsFunction(_ x: T) -> T { T.erf(x) } }
    struct Relu<T: TensorScalar>: UnaryElementFunction { func callAsFunction(_ x: T) -> T { x > 0 ? x : 0 } }
    struct Sign<T: TensorScalar>: UnaryElementFunction { func callAsFunction(_ x: T) -> T { x > 0 ? 1 : (x < 0 ? -1 : 0) } }
    struct Square<T: TensorScalar>: UnaryElementFunction { func callAsFunction(_ x: T) -> T { x * x } }

    /// `1 / (1 + e^-x)` as `e / (1 + e)` with `e = exp(-|x|)`: no overflow for large |x| of either sign.
    struct Sigmoid<T: TensorScalar>: UnaryElementFunction {
        func callAsFunction(_ x: T) -> T {
            let e = T.exp(-Swift.abs(x))
            return x >= 0 ? 1 / (1 + e) : e / (1 + e)
        }
    }

    struct Silu<T: TensorScalar>: UnaryElementFunction { func callAsFunction(_ x: T) -> T { x * Sigmoid<T>()(x) } }

    /// Exact GELU: `x Φ(x)`, Φ the standard normal CDF.
    struct Gelu<T: TensorScalar>: UnaryElementFunction {
        func callAsFunction(_ x: T) -> T { x * ((1 + T.erf(x * T(0.5).squareRoot())) * 0.5) }
    }

    /// `log(1 + e^x) = max(x, 0) + log1p(e^-|x|)`, stable for large |x|.
    struct Softplus<T: TensorScalar>: UnaryElementFunction {
        func callAsFunction(_ x: T) -> T { Swift.max(x, 0) + T.log(onePlus: T.exp(-Swift.abs(x))) }
    }

    struct Affine<T: TensorScalar>: UnaryElementFunction {
        let scale: T, shift: T
        func callAsFunction(_ x: T) -> T { x * scale + shift }
    }

    struct IntegerPower<T: TensorScalar>: UnaryElementFunction {
        let exponent: Int
        func callAsFunction(_ x: T) -> T { T.pow(x, exponent) }
    }

    struct RealPower<T: TensorScalar>: UnaryElementFunction {
        let exponent: T
        func callAsFunction(_ x: T) -> T { T.pow(x, exponent) }
    }

    struct Clamp<T: TensorScalar>: UnaryElementFunction {
        let lower: T, upper: T
        func callAsFunction(_ x: T) -> T { Swift.min(Swift.max(x, lower), upper) }
    }

    // Float32 fast forms (``VectorMath``).
    struct FastExp: UnaryElementFunction { func callAsFunction(_ x: Float) -> Float { VectorMath.exp(x) } }
    struct FastSigmoid: UnaryElementFunction { func callAsFunction(_ x: Float) -> Float { VectorMath.sigmoid(x) } }
    struct FastSilu: UnaryElementFunction { func callAsFunction(_ x: Float) -> Float { VectorMath.silu(x) } }
    struct FastErf: UnaryElementFunction { func callAsFunction(_ x: Float) -> Float { VectorMath.erf(x) } }
    struct FastGelu: UnaryElementFunction { func callAsFunction(_ x: Float) -> Float { VectorMath.gelu(x) } }

    struct Add<T: TensorScalar>: BinaryElementFunction { func callAsFunction(_ a: T, _ b: T) -> T { a + b } }
    struct Subtract<T: TensorScalar>: BinaryElementFunction { func callAsFunction(_ a: T, _ b: T) -> T { a - b } }
    struct Multiply<T: TensorScalar>: BinaryElementFunction { func callAsFunction(_ a: T, _ b: T) -> T { a * b } }
    struct Divide<T: TensorScalar>: BinaryElementFunction { func callAsFunction(_ a: T, _ b: T) -> T { a / b } }
    struct Maximum<T: TensorScalar>: BinaryElementFunction { func callAsFunction(_ a: T, _ b: T) -> T { Swift.max(a, b) } }
    struct Minimum<T: TensorScalar>: BinaryElementFunction { func callAsFunction(_ a: T, _ b: T) -> T { Swift.min(a, b) } }

    /// The larger value, NaN if either is NaN (the combine of the max reduction).
    struct NaNPropagatingMaximum<T: TensorScalar>: BinaryElementFunction {
        func callAsFunction(_ a: T, _ b: T) -> T { a > b || a.isNaN ? a : b }
    }

    /// `a^b` as in C and NumPy: integer exponents of negative bases give real results and `x^0 = 1`; other
    /// negative bases give NaN. (RealModule's real-exponent `pow(x, y)` is NaN for every negative `x` and for `0^0`.)
    struct Power<T: TensorScalar>: BinaryElementFunction {
        func callAsFunction(_ a: T, _ b: T) -> T {
            if let n = Int(exactly: b) { return T.pow(a, n) }
            return T.pow(a, b)
        }
    }

    enum Comparison { case equal, notEqual, less, lessOrEqual, greater, greaterOrEqual }

    /// 1 where the comparison holds, 0 elsewhere.
    struct Compare<T: TensorScalar>: BinaryElementFunction {
        let comparison: Comparison
        func callAsFunction(_ a: T, _ b: T) -> T {
            let holds: Bool
            switch comparison {
            case .equal: holds = a == b
            case .notEqual: holds = a != b
            case .less: holds = a < b
            case .lessOrEqual: holds = a <= b
            case .greater: holds = a > b
            case .greaterOrEqual: holds = a >= b
            }
            return holds ? 1 : 0
        }
    }
}
