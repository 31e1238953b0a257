import CTitansKernels

/// Float32 exp, sigmoid, SiLU, erf and GELU written without calls or branches, so that the compiler vectorises the
/// loops that apply them (libm's `expf` is a call per element). Their slow references are the platform's
/// libm; tests hold them equal to a few ulp.
public enum VectorMath {
    /// `exp(x)`: x = n·ln2 + r with |r| ≤ ln2/2, exp(r) by its degree-7 Taylor polynomial (truncation error
    /// below 1e-8 relative), then scaled by 2^n in two halves, so overflow gives +inf and underflow gives
    /// subnormals or 0 as IEEE multiplication does.
    @inline(__always)
    public static func exp(_ x: Float) -> Float {
        let c = x < -104 ? -104 : (x > 89 ? 89 : x)
        // Adding 1.5·2^23 rounds to an integer held in the low mantissa bits: n without a conversion instruction.
        let magic: Float = 12_582_912
        let t = c * 1.442_695_04 + magic
        let n = t - magic
        // ln 2 split in a part exact in float (so n·hi is exact) and a correction.
        let r = c - n * 0.693_359_375 + n * 2.121_944_4e-4
        var p: Float = 1.0 / 5040
        p = p * r + 1.0 / 720
        p = p * r + 1.0 / 120
        p = p * r + 1.0 / 24
        p = p * r + 1.0 / 6
        p = p * r + 0.5
        p = p * r + 1
        p = p * r + 1
        let ni = Int32(bitPattern: t.bitPattern &- magic.bitPattern)
        let half = ni &>> 1
        let scale1 = Float(bitPattern: UInt32(bitPattern: (half &+ 127) &<< 23))
        let scale2 = Float(bitPattern: UInt32(bitPattern: (ni &- half &+ 127) &<< 23))
        let y = p * scale1 * scale2
        return x != x ? x : y  // NaN stays NaN
    }

    /// `1 / (1 + exp(-x))`, as `e / (1 + e)` with `e = exp(-|x|)` for negative x so nothing overflows.
    @inline(__always)
    static func sigmoid(_ x: Float) -> Float {
        let e = exp(x < 0 ? x : -x)
        let r = 1 / (1 + e)
        return x < 0 ? e * r : r
    }

    /// `x * sigmoid(x)`
    @inline(__always)
    static func silu(_ x: Float) -> Float { x * sigmoid(x) }

    /// `erf(x)`, both of its forms computed and one chosen, so the loop has no branch (coefficients fitted for relative
    /// error by `tools/vector-math/fit_erf.py`; within 2.5 ulp of the exact value):
    /// - |x| < 0.921875: x·P(x²), P of degree 6 (erf(a)/a to 4e-10);
    /// - up to 4: 1 − e^(−a²)·R(1/(1 + a)), R of degree 7 (e^(a²)·erfc(a) to 1.3e-8); from 4 on erf is 1 in float.
    @inline(__always)
    public static func erf(_ x: Float) -> Float {
        let magnitude = Swift.abs(x)
        let a = magnitude < 4 ? magnitude : 4
        let z = a * a
        var p: Float = 8.370_249_27e-5
        p = p * z - 8.142_745_94e-4
        p = p * z + 5.201_036_58e-3
        p = p * z - 2.685_940_08e-2
        p = p * z + 0.112_836_957
        p = p * z - 0.376_126_349
        p = p * z + 1.128_379_23
        let t = 1 / (1 + a)
        var r: Float = -0.573_025_584
        r = r * t + 1.234_176_4
        r = r * t - 0.551_442_087
        r = r * t - 0.665_144_682
        r = r * t + 0.438_204_408
        r = r * t + 0.532_954_097
        r = r * t + 0.567_405_581
        r = r * t - 1.364_169_88e-4
        let y = a < 0.921_875 ? a * p : 1 - exp(-z) * r
        let signed = Float(bitPattern: y.bitPattern | (x.bitPattern & 0x8000_0000))
        return x != x ? x : signed  // NaN stays NaN
    }

    /// Exact GELU `x Φ(x) = x · (1 + erf(x/√2)) / 2`, the form of the op `gelu()` in every precision (halved before the
    /// product with x, so the largest floats do not overflow).
    @inline(__always)
    static func gelu(_ x: Float) -> Float { x * ((1 + erf(x * Float(0.5).squareRoot())) * 0.5) }

    /// Whether this CPU runs the C loops compiled for AVX2 (`CTitansKernels/VectorMathAVX2.c`: this algorithm 8 floats
    /// at a time, bit for bit; a MAC forward's SiLU calls took 185 µs on average against 379 in these loops at the
    /// build's SSE2 baseline, its sigmoids 93 against 200, one thread).
    static let hasAVX2 = titans_has_avx2_fma()

    /// The activations that fused loops apply in place.
    public enum Activation: Sendable { case silu, gelu }

    /// SiLU or GELU over `count` floats in place, as the op `silu()` or `gelu()` computes it on a contiguous float32
    /// tensor (the AVX2 loop where this CPU runs it): for fused loops that must give the ops' numbers.
    public static func applyInPlace(_ activation: Activation, to values: UnsafeMutablePointer<Float>, count: Int) {
        if let function = avx2Function(activation == .silu ? .silu : .gelu) {
            titans_vector_function_avx2(function, values, values, count)
            return
        }
        switch activation {
        case .silu: for i in 0..<count { values[i] = silu(values[i]) }
        case .gelu: for i in 0..<count { values[i] = gelu(values[i]) }
        }
    }

    /// The AVX2 loop for `f`, when `f` has one and this CPU runs it.
    static func avx2Function(_ f: UnaryFunction) -> titans_vector_function? {
        guard hasAVX2 else { return nil }
        switch f {
        case .exp: return titans_exp
        case .sigmoid: return titans_sigmoid
        case .silu: return titans_silu
        case .erf: return titans_erf
        case .gelu: return titans_gelu
        default: return nil
        }
    }
}
