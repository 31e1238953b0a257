/// Vectorised float32 transcendental functions for the hot elementwise ops, eight lanes at a time.
/// Their slow references are the scalar `Float.exp` etc. of the platform's libm; tests hold them equal to ~2 ulp.
enum VectorMath {
    typealias Vector = SIMD8<Float>

    /// `exp(x)`: x = n·ln2 + r with |r| ≤ ln2/2, exp(r) by its degree-7 Taylor polynomial (truncation error
    /// below 1e-8 relative), then scaled by 2^n in two halves so overflow gives +inf and underflow gives
    /// subnormals or 0 exactly as IEEE multiplication does.
    @inline(__always)
    static func exp(_ x: Vector) -> Vector {
        let clamped = x.clamped(lowerBound: Vector(repeating: -104), upperBound: Vector(repeating: 89))
        let n = (clamped * 1.442_695_04).rounded(.toNearestOrEven)
        // ln 2 split in a part exact in float (so n·hi is exact) and a correction.
        let r = clamped - n * 0.693_359_375 + n * 2.121_944_4e-4
        var p = Vector(repeating: 1.0 / 5040)
        p = p * r + 1.0 / 720
        p = p * r + 1.0 / 120
        p = p * r + 1.0 / 24
        p = p * r + 1.0 / 6
        p = p * r + 0.5
        p = p * r + 1
        p = p * r + 1
        let ni = SIMD8<Int32>(n)
        let half = ni &>> 1
        let scale1 = unsafeBitCast((half &+ 127) &<< 23, to: Vector.self)
        let scale2 = unsafeBitCast((ni &- half &+ 127) &<< 23, to: Vector.self)
        var result = p * scale1 * scale2
        result.replace(with: x, where: x .!= x)  // NaN stays NaN
        return result
    }

    /// `1 / (1 + exp(-x))`, as `e / (1 + e)` with `e = exp(x)` for negative x so nothing overflows.
    @inline(__always)
    static func sigmoid(_ x: Vector) -> Vector {
        let e = exp(-abs(x))
        let r = 1 / (1 + e)
        return r.replacing(with: e * r, where: x .< 0)
    }

    /// `x * sigmoid(x)`
    @inline(__always)
    static func silu(_ x: Vector) -> Vector { x * sigmoid(x) }

    @inline(__always)
    private static func abs(_ x: Vector) -> Vector { x.replacing(with: -x, where: x .< 0) }

    /// `out[i] = f(x[i])` over `count` contiguous floats, both cores when large; the tail goes through a padded vector.
    @inline(__always)
    static func map(_ x: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, count: Int, _ f: (Vector) -> Vector) {
        let blocks = (count + 7) / 8
        Parallel.forRanges(blocks, grain: Parallel.elementwiseGrain / 8) { range in
            for block in range {
                let i = block * 8
                if i + 8 <= count {
                    UnsafeMutableRawPointer(out + i).storeBytes(
                        of: f(UnsafeRawPointer(x + i).loadUnaligned(as: Vector.self)), as: Vector.self)
                } else {
                    var v = Vector(repeating: 0)
                    for j in 0..<(count - i) { v[j] = x[i + j] }
                    let y = f(v)
                    for j in 0..<(count - i) { out[i + j] = y[j] }
                }
            }
        }
    }
}
