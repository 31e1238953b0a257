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
        // Only this test's ops: other tests run memory updates (linear scans) at the same time.
        OpProfile.countingOnlyHere { for _ in 0..<3 { _ = Tensor.linearScan(a, b, axis: 0) } }
        _ = Tensor.linearScan(a, b, axis: 0)  // not counted
        #expect(calls("linearScan") == before + 3)
        #expect(OpProfile.report().hasPrefix("op profile:"))
    }

    /// Outputs made while recording count as memory a backward pass may keep; unrecorded ones do not.
    @Test func countsRecordedOutputBytes() {
        func megabytes(_ family: String) -> Double {
            let line = OpProfile.report().split(separator: "\n").first { $0.split(separator: " ").first == Substring(family) }
            return line.flatMap { Double($0.split(separator: " ").last ?? "") } ?? 0
        }
        let x = Tensor.ones([1000, 250]).requiringGrad()  // 1 MB of float32
        let before = megabytes("cumulativeSum")
        OpProfile.countingOnlyHere {
            _ = x.cumulativeSum(axis: 0)
            _ = withoutGradients { x.cumulativeSum(axis: 0) }
        }
        #expect(abs(megabytes("cumulativeSum") - before - 1) < 1e-9)
    }
}
