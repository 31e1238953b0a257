import Foundation
import Testing
@testable import TitansTensor

@Suite("Forward: creation, reading, random, dtype conversion")
struct ForwardCreationTests {
    @Test(arguments: DType.allCases)
    func zerosOnesFull(dtype: DType) {
        let z = Tensor.zeros([2, 3], dtype: dtype)
        FwdRef.expectClose(z, [0, 0, 0, 0, 0, 0], shape: [2, 3], dtype: dtype, "zeros")
        #expect(z.strides == [3, 1] && z.offset == 0 && z.isContiguous && z.count == 6 && z.rank == 2)
        FwdRef.expectClose(Tensor.ones([3, 1, 2], dtype: dtype), Array(repeating: 1, count: 6), shape: [3, 1, 2], dtype: dtype, "ones")
        FwdRef.expectClose(Tensor.full([4], value: -2.5, dtype: dtype), [-2.5, -2.5, -2.5, -2.5], shape: [4], dtype: dtype, "full")
        FwdRef.expectClose(Tensor.full([2], value: 0.1, dtype: dtype), FwdRef.stored([0.1, 0.1], dtype), shape: [2], dtype: dtype, "full 0.1")
        let (x, _) = FwdRef.random([2, 5], dtype, seed: 1)
        FwdRef.expectClose(Tensor.zeros(like: x), Array(repeating: 0, count: 10), shape: [2, 5], dtype: dtype, "zeros(like:)")
        FwdRef.expectClose(Tensor.ones(like: x), Array(repeating: 1, count: 10), shape: [2, 5], dtype: dtype, "ones(like:)")
        // Rank 0 and empty shapes.
        let z0 = Tensor.zeros([], dtype: dtype)
        #expect(z0.rank == 0 && z0.count == 1 && z0.item() == 0)
        let empty = Tensor.ones([0, 3], dtype: dtype)
        #expect(empty.count == 0 && empty.shape == [0, 3] && empty.toArray().isEmpty)
        #expect(Tensor.zeros([3, 0], dtype: dtype).toArray().isEmpty)
    }

    @Test(arguments: DType.allCases)
    func scalarAndItem(dtype: DType) {
        let s = Tensor.scalar(3.25, dtype: dtype)
        #expect(s.shape == [] && s.rank == 0 && s.count == 1 && s.dtype == dtype)
        #expect(s.item() == 3.25)
        #expect(s.toArray() == [3.25])
        #expect(Tensor.full([1, 1, 1], value: -7, dtype: dtype).item() == -7)
        #expect(Tensor.scalar(0.1, dtype: dtype).item() == FwdRef.stored([0.1], dtype)[0])
    }

    @Test(arguments: DType.allCases)
    func arange(dtype: DType) {
        FwdRef.expectClose(Tensor.arange(0, 5, dtype: dtype), [0, 1, 2, 3, 4], shape: [5], dtype: dtype, "arange(5)")
        FwdRef.expectClose(Tensor.arange(2, 6, dtype: dtype), [2, 3, 4, 5], shape: [4], dtype: dtype, "arange(2, 6)")
        FwdRef.expectClose(Tensor.arange(1, 2, step: 0.25, dtype: dtype), [1, 1.25, 1.5, 1.75], shape: [4], dtype: dtype, "step 0.25")
        FwdRef.expectClose(Tensor.arange(5, 0, step: -2, dtype: dtype), [5, 3, 1], shape: [3], dtype: dtype, "negative step")
        FwdRef.expectClose(Tensor.arange(0, 1, step: 0.3, dtype: dtype), FwdRef.stored([0, 0.3, 0.6, 0.9], dtype),
                           shape: [4], dtype: dtype, scale: 2, "step 0.3")
        FwdRef.expectClose(Tensor.arange(0, 2.5, dtype: dtype), [0, 1, 2], shape: [3], dtype: dtype, "fractional end")
        #expect(Tensor.arange(3, 3, dtype: dtype).shape == [0])
        #expect(Tensor.arange(3, 1, dtype: dtype).shape == [0])
        #expect(Tensor.arange(0, 4).dtype == .float32)
    }

    @Test(arguments: DType.allCases)
    func initFromArraysAndGenerating(dtype: DType) {
        let values: [Double] = [1.5, -2, 0.1, 1e-3, 4, 1e6]
        let t = Tensor(shape: [2, 3], values, dtype: dtype)
        FwdRef.expectClose(t, FwdRef.stored(values, dtype), shape: [2, 3], dtype: dtype, "init [Double]")
        #expect(t[0, 0] == 1.5 && t[0, 1] == -2 && t[1, 2] == 1e6 && t[1, 0] == FwdRef.stored([1e-3], dtype)[0])
        #expect(t.toArray() == FwdRef.stored(values, dtype))
        #expect(t.toFloatArray() == values.map { Float($0) })
        let g = Tensor(shape: [2, 2, 2], generating: { Double($0 * $0) - 3 }, dtype: dtype)
        FwdRef.expectClose(g, (0..<8).map { Double($0 * $0) - 3 }, shape: [2, 2, 2], dtype: dtype, "generating")
        #expect(g[1, 0, 1] == 22)
        let e = Tensor(shape: [0, 4], [Double](), dtype: dtype)
        #expect(e.count == 0 && e.shape == [0, 4])
    }

    @Test func initFromFloatArray() {
        let f: [Float] = [0.5, -1.25, 3, 1e-7]
        let t = Tensor(shape: [4, 1], f)
        #expect(t.dtype == .float32 && t.shape == [4, 1])
        #expect(t.toFloatArray() == f)
        #expect(FwdRef.readElements(t) == f.map(Double.init))
        let empty = Tensor(shape: [0], [Float]())
        #expect(empty.count == 0 && empty.dtype == .float32)
    }

    @Test func floatPointerAccess() {
        let t = Tensor(shape: [3], [1, 2, 3] as [Float])
        #expect(t.withUnsafeFloatPointer { $0[0] + $0[1] + $0[2] } == 6)
        t.withUnsafeMutableFloatPointer { $0[1] = 10 }
        #expect(t.toFloatArray() == [1, 10, 3])
    }

    // MARK: Random

    /// The documented algorithm, written independently: SplitMix64 seeding, xoshiro256** steps.
    private struct ReferenceXoshiro {
        var s: [UInt64]
        init(seed: UInt64) {
            var x = seed
            s = []
            for _ in 0..<4 {
                x = x &+ 0x9E37_79B9_7F4A_7C15
                var z = x
                z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
                z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
                s.append(z ^ (z >> 31))
            }
        }
        static func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }
        mutating func next() -> UInt64 {
            let result = Self.rotl(s[1] &* 5, 7) &* 9
            let t = s[1] << 17
            s[2] ^= s[0]; s[3] ^= s[1]; s[1] ^= s[2]; s[0] ^= s[3]
            s[2] ^= t
            s[3] = Self.rotl(s[3], 45)
            return result
        }
    }

    @Test func generatorMatchesReferenceStream() {
        // Known SplitMix64 output for seed 0 is 0xE220A8397B1DCDAF.
        #expect(RandomGenerator(seed: 0).state[0] == 0xE220_A839_7B1D_CDAF)
        for seed: UInt64 in [0, 1, 42, .max] {
            var g = RandomGenerator(seed: seed)
            var r = ReferenceXoshiro(seed: seed)
            #expect(g.state == r.s)
            for _ in 0..<100 { #expect(g.next() == r.next()) }
            let u = g.nextUniform()
            #expect(u == Double(r.next() >> 11) * 0x1.0p-53)
            #expect(u >= 0 && u < 1)
        }
    }

    @Test(arguments: DType.allCases)
    func randomDeterminism(dtype: DType) {
        var g1 = RandomGenerator(seed: 123), g2 = RandomGenerator(seed: 123), g3 = RandomGenerator(seed: 124)
        let a = Tensor.randomNormal([50], dtype: dtype, generator: &g1).toArray()
        let b = Tensor.randomNormal([50], dtype: dtype, generator: &g2).toArray()
        let c = Tensor.randomNormal([50], dtype: dtype, generator: &g3).toArray()
        #expect(a == b)
        #expect(a != c)
        #expect(g1 == g2 && g1 != g3)
        // The generator advances: the next draw differs, and two draws equal one draw of both sizes.
        let next = Tensor.randomNormal([50], dtype: dtype, generator: &g1).toArray()
        #expect(next != a)
        var g4 = RandomGenerator(seed: 123)
        let whole = Tensor.randomNormal([100], dtype: dtype, generator: &g4).toArray()
        #expect(whole == a + next)
        var u1 = RandomGenerator(seed: 9), u2 = RandomGenerator(seed: 9), u3 = RandomGenerator(seed: 10)
        let ua = Tensor.randomUniform([4, 5], low: -1, high: 3, dtype: dtype, generator: &u1).toArray()
        #expect(ua == Tensor.randomUniform([4, 5], low: -1, high: 3, dtype: dtype, generator: &u2).toArray())
        #expect(ua != Tensor.randomUniform([4, 5], low: -1, high: 3, dtype: dtype, generator: &u3).toArray())
        // Uniform samples follow the generator's uniform stream exactly (low + (high - low) u).
        var ref = RandomGenerator(seed: 9)
        let expected = (0..<20).map { _ in -1 + 4 * ref.nextUniform() }
        FwdRef.expectClose(Tensor(shape: [4, 5], ua, dtype: .float64), FwdRef.stored(expected, dtype), shape: [4, 5], "uniform stream")
    }

    @Test func float32RandomIsRoundedFloat64Random() {
        var g1 = RandomGenerator(seed: 77), g2 = RandomGenerator(seed: 77)
        let d = Tensor.randomNormal([64], mean: 1, standardDeviation: 3, dtype: .float64, generator: &g1).toArray()
        let f = Tensor.randomNormal([64], mean: 1, standardDeviation: 3, dtype: .float32, generator: &g2).toArray()
        #expect(f == d.map { Double(Float($0)) })
    }

    private static func moments(_ v: [Double]) -> (mean: Double, std: Double) {
        let mean = v.reduce(0, +) / Double(v.count)
        let variance = v.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(v.count - 1)
        return (mean, variance.squareRoot())
    }

    @Test(arguments: DType.allCases)
    func randomMoments(dtype: DType) {
        var g = RandomGenerator(seed: 2024)
        let n = Tensor.randomNormal([100, 100], dtype: dtype, generator: &g)
        #expect(n.shape == [100, 100] && n.dtype == dtype)
        var (mean, std) = Self.moments(n.toArray())
        // Standard error of the mean is 0.01 for 10k samples; of the std about 0.007.
        #expect(Swift.abs(mean) < 0.04, "normal mean \(mean)")
        #expect(Swift.abs(std - 1) < 0.03, "normal std \(std)")
        let shifted = Tensor.randomNormal([10_000], mean: 3, standardDeviation: 2, dtype: dtype, generator: &g)
        (mean, std) = Self.moments(shifted.toArray())
        #expect(Swift.abs(mean - 3) < 0.08, "normal(3, 2) mean \(mean)")
        #expect(Swift.abs(std - 2) < 0.06, "normal(3, 2) std \(std)")
        let u = Tensor.randomUniform([10_000], low: -2, high: 4, dtype: dtype, generator: &g).toArray()
        #expect(u.allSatisfy { $0 >= -2 && $0 <= 4 })
        (mean, std) = Self.moments(u)
        #expect(Swift.abs(mean - 1) < 0.06, "uniform mean \(mean)")
        #expect(Swift.abs(std - 6 / 12.0.squareRoot()) < 0.04, "uniform std \(std)")
        let unit = Tensor.randomUniform([10_000], dtype: dtype, generator: &g).toArray()
        #expect(unit.allSatisfy { $0 >= 0 && $0 <= 1 })
        #expect(Swift.abs(unit.reduce(0, +) / 10_000 - 0.5) < 0.015)
    }

    @Test func generatorStateCopyResumesStream() {
        var g = RandomGenerator(seed: 5)
        _ = Tensor.randomNormal([17], generator: &g)
        let saved = g.state
        let continued = Tensor.randomNormal([30], dtype: .float64, generator: &g).toArray()
        var restored = RandomGenerator(seed: 999)
        restored.state = saved
        #expect(Tensor.randomNormal([30], dtype: .float64, generator: &restored).toArray() == continued)
        // A copy of the struct is an independent generator at the same point.
        var a = RandomGenerator(seed: 11)
        _ = a.next()
        var b = a
        #expect((0..<10).map { _ in a.next() } == (0..<10).map { _ in b.next() })
        // Codable round trip keeps the position.
        var c = RandomGenerator(seed: 31)
        _ = c.nextNormal()
        let data = try! JSONEncoder().encode(c)
        var d = try! JSONDecoder().decode(RandomGenerator.self, from: data)
        #expect(d == c)
        #expect(d.nextUniform() == c.nextUniform())
    }

    // MARK: dtype conversion

    @Test func dtypeRoundTrip() {
        let values: [Double] = [1.0 / 3, -2.75, 1e-30, 3.4e38, 123456789.123, 0]
        let d = Tensor(shape: [2, 3], values, dtype: .float64)
        let f = d.to(.float32)
        #expect(f.dtype == .float32 && f.shape == [2, 3])
        #expect(FwdRef.readElements(f) == values.map { Double(Float($0)) })
        let back = f.to(.float64)
        #expect(back.dtype == .float64)
        #expect(FwdRef.readElements(back) == values.map { Double(Float($0)) })
        // Float -> Double -> Float is exact.
        #expect(back.to(.float32).toFloatArray() == values.map { Float($0) })
        // Same dtype is the identity.
        #expect(d.to(.float64) === d)
        #expect(f.to(.float32) === f)
        // Non-contiguous inputs convert in logical order.
        let t = d.transposed().to(.float32)
        #expect(t.shape == [3, 2])
        #expect(FwdRef.readElements(t) == FwdRef.transpose(values, rows: 2, cols: 3).map { Double(Float($0)) })
    }
}
