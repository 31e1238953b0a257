import Foundation
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

    /// Which op is inside which is kept per thread: nested ops running side by side on two cores each get their own
    /// self time (with one shared stack, one thread's inner op was charged to the other's outer op).
    @Test func selfTimeIsPerThread() {
        func seconds(_ family: String) -> Double {
            let line = OpProfile.report().split(separator: "\n").first { $0.split(separator: " ").first == Substring(family) }
            return line.flatMap { Double($0.split(separator: " ").filter { !$0.isEmpty }[2]) } ?? 0
        }
        let before = (outer: seconds("testOuter"), inner: seconds("testInner"), alone: seconds("testAlone"))
        OpProfile.countingOnlyHere {
            _ = Parallel.shards(2) { part in
                if part == 0 {
                    _ = OpProfile.measure("testOuter") { OpProfile.measure("testInner") { usleep(60_000) } }
                } else {
                    usleep(10_000)  // starts inside part 0's outer op, ends inside its inner op
                    _ = OpProfile.measure("testAlone") { usleep(20_000) }
                }
            }
        }
        let outer = seconds("testOuter") - before.outer, inner = seconds("testInner") - before.inner
        let alone = seconds("testAlone") - before.alone
        #expect(inner >= 0.055 && outer < 0.01, "inner \(inner) s, outer's own \(outer) s")
        #expect(alone >= 0.018 && alone < 0.05, "alone \(alone) s")
    }
}
