import Foundation
import Testing
@testable import TitansTensor

/// An independent reference for the generator: SplitMix64 seeding and xoshiro256** as published by Blackman and Vigna.
private struct ReferenceXoshiro {
    var s: (UInt64, UInt64, UInt64, UInt64)

    static func splitMix(_ x: inout UInt64) -> UInt64 {
        x = x &+ 0x9E37_79B9_7F4A_7C15
        var z = x
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    init(seed: UInt64) {
        var x = seed
        s = (Self.splitMix(&x), Self.splitMix(&x), Self.splitMix(&x), Self.splitMix(&x))
    }

    static func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

    mutating func next() -> UInt64 {
        let result = Self.rotl(s.1 &* 5, 7) &* 9
        let t = s.1 << 17
        s.2 ^= s.0
        s.3 ^= s.1
        s.1 ^= s.2
        s.0 ^= s.3
        s.2 ^= t
        s.3 = Self.rotl(s.3, 45)
        return result
    }
}

@Suite struct RandomGeneratorTests {
    @Test func seedingMatchesSplitMix64() {
        // The first SplitMix64 outputs for seed 0 are a published test vector.
        var x: UInt64 = 0
        #expect(ReferenceXoshiro.splitMix(&x) == 0xE220_A839_7B1D_CDAF)
        let reference = ReferenceXoshiro(seed: 0)
        #expect(RandomGenerator(seed: 0).state == [reference.s.0, reference.s.1, reference.s.2, reference.s.3])
    }

    @Test(arguments: [0, 1, 42, 0xDEAD_BEEF, UInt64.max])
    func streamMatchesReferenceXoshiro(seed: UInt64) {
        var g = RandomGenerator(seed: seed)
        var r = ReferenceXoshiro(seed: seed)
        for _ in 0..<1000 { #expect(g.next() == r.next()) }
        // nextUniform uses the top 53 bits.
        for _ in 0..<100 { #expect(g.nextUniform() == Double(r.next() >> 11) / 9_007_199_254_740_992) }
    }

    @Test func sameSeedSameSequenceAcrossInstances() {
        var a = RandomGenerator(seed: 1234), b = RandomGenerator(seed: 1234)
        for _ in 0..<500 {
            #expect(a.next() == b.next())
            #expect(a.nextUniform() == b.nextUniform())
            #expect(a.nextNormal() == b.nextNormal())
        }
        var c = RandomGenerator(seed: 99), d = RandomGenerator(seed: 99)
        let t1 = Tensor.randomNormal([3, 4], dtype: .float64, generator: &c)
        let t2 = Tensor.randomNormal([3, 4], dtype: .float64, generator: &d)
        #expect(t1.toArray() == t2.toArray())
        #expect(c == d)
    }

    @Test func differentSeedsDiffer() {
        let seeds: [UInt64] = [0, 1, 2, 3, 1 << 32, .max]
        let streams = seeds.map { seed -> [UInt64] in
            var g = RandomGenerator(seed: seed)
            return (0..<8).map { _ in g.next() }
        }
        for i in 0..<streams.count {
            for j in (i + 1)..<streams.count {
                #expect(streams[i] != streams[j], "seeds \(seeds[i]) and \(seeds[j])")
                #expect(Set(streams[i]).isDisjoint(with: streams[j]), "seeds \(seeds[i]) and \(seeds[j]) share a value")
            }
        }
    }

    @Test func savedStateResumesExactly() throws {
        var g = RandomGenerator(seed: 7)
        for _ in 0..<37 { _ = g.nextNormal() }
        let saved = g.state
        let continued = (0..<50).map { _ in g.nextUniform() }
        var restored = RandomGenerator(seed: 12345)
        restored.state = saved
        #expect((0..<50).map { _ in restored.nextUniform() } == continued)

        // Through Codable, as a checkpoint would store it.
        var h = RandomGenerator(seed: 8)
        _ = Tensor.randomUniform([5], generator: &h)
        let data = try JSONEncoder().encode(h)
        var decoded = try JSONDecoder().decode(RandomGenerator.self, from: data)
        #expect(decoded == h)
        #expect((0..<20).map { _ in decoded.next() } == (0..<20).map { _ in h.next() })
    }

    @Test func tensorsDrawOneValuePerElementInRowMajorOrder() {
        var g = RandomGenerator(seed: 5), manual = RandomGenerator(seed: 5)
        let t = Tensor.randomUniform([2, 3], low: -1, high: 3, dtype: .float64, generator: &g)
        let expected = (0..<6).map { _ in -1 + 4 * manual.nextUniform() }
        #expect(t.toArray() == expected)
        #expect(g == manual, "the generator advanced by exactly one draw per element")
        let next = Tensor.randomUniform([2, 3], low: -1, high: 3, dtype: .float64, generator: &g)
        #expect(next.toArray() != t.toArray(), "successive tensors continue the stream")

        var n = RandomGenerator(seed: 6), manualNormal = RandomGenerator(seed: 6)
        let z = Tensor.randomNormal([4], mean: 2, standardDeviation: 0.5, dtype: .float64, generator: &n)
        #expect(z.toArray() == (0..<4).map { _ in 2 + 0.5 * manualNormal.nextNormal() })
    }

    @Test func uniformIsInUnitIntervalWithTheRightMoments() {
        var g = RandomGenerator(seed: 2024)
        let n = 100_000
        let xs = (0..<n).map { _ in g.nextUniform() }
        #expect(xs.allSatisfy { $0 >= 0 && $0 < 1 })
        let mean = xs.reduce(0, +) / Double(n)
        let variance = xs.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(n)
        // Standard errors: 0.29/√n ≈ 0.0009 for the mean, ≈ 0.0003 for the variance; allow ~5σ.
        #expect(Swift.abs(mean - 0.5) < 0.005, "mean \(mean)")
        #expect(Swift.abs(variance - 1.0 / 12) < 0.002, "variance \(variance)")
        // Every tenth of the interval is hit about equally often.
        var bins = [Int](repeating: 0, count: 10)
        for x in xs { bins[Int(x * 10)] += 1 }
        #expect(bins.allSatisfy { Swift.abs($0 - n / 10) < 600 }, "bins \(bins)")

        var t = RandomGenerator(seed: 3)
        let u = Tensor.randomUniform([1000], low: -2, high: 5, generator: &t).toArray()
        #expect(u.allSatisfy { $0 >= -2 && $0 <= 5 })
    }

    @Test func normalHasTheRightMoments() {
        var g = RandomGenerator(seed: 31337)
        let n = 100_000
        let xs = (0..<n).map { _ in g.nextNormal() }
        #expect(xs.allSatisfy { $0.isFinite })
        let mean = xs.reduce(0, +) / Double(n)
        let variance = xs.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(n)
        let fourth = xs.reduce(0) { $0 + Foundation.pow($1 - mean, 4) } / Double(n)
        // Standard errors: 1/√n ≈ 0.003 for the mean, √(2/n) ≈ 0.0045 for the variance; allow ~5σ.
        #expect(Swift.abs(mean) < 0.016, "mean \(mean)")
        #expect(Swift.abs(variance - 1) < 0.025, "variance \(variance)")
        #expect(Swift.abs(fourth - 3) < 0.15, "fourth moment \(fourth) (3 for a normal)")
        let withinOne = Double(xs.filter { Swift.abs($0) < 1 }.count) / Double(n)
        #expect(Swift.abs(withinOne - 0.6827) < 0.01, "P(|z| < 1) = \(withinOne)")

        var t = RandomGenerator(seed: 4)
        let z = Tensor.randomNormal([20_000], mean: -3, standardDeviation: 2, dtype: .float64, generator: &t).toArray()
        let zMean = z.reduce(0, +) / Double(z.count)
        let zStd = (z.reduce(0) { $0 + ($1 - zMean) * ($1 - zMean) } / Double(z.count)).squareRoot()
        #expect(Swift.abs(zMean + 3) < 0.07, "mean \(zMean)")
        #expect(Swift.abs(zStd - 2) < 0.06, "standard deviation \(zStd)")
    }
}
