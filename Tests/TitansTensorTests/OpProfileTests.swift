import Testing
@testable import TitansTensor

/// The opt-in op profile counts each op family's calls and self time.
@Suite(.serialized) struct OpProfileTests {
    @Test func countsCallsBySelfTime() throws {
        var rng = RandomGenerator(seed: 1)
        let a = Tensor.randomNormal([64, 64], generator: &rng), b = Tensor.randomNormal([64, 64], generator: &rng)
        func calls(_ family: String) -> Int {
            let line = OpProfile.report().split(separator: "\n").first { $0.split(separator: " ").first == Substring(family) }
            return line.flatMap { Int($0.split(separator: " ")[1]) } ?? 0
        }
        let before = calls("linearScan")
        OpProfile.setEnabled(true)
        for _ in 0..<3 { _ = Tensor.linearScan(a, b, axis: 0) }
        OpProfile.setEnabled(false)
        _ = Tensor.linearScan(a, b, axis: 0)  // not counted
        #expect(calls("linearScan") == before + 3)
        #expect(OpProfile.report().hasPrefix("op profile:"))
    }
}
