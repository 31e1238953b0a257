import Foundation
import Testing
@testable import TitansTensor

/// Programmer errors stop the process with a message naming the op and the shapes involved.
/// Each case runs in a child process (Swift Testing exit tests) and its standard error is checked.
@Suite("Forward: shape errors stop with a clear message")
struct ShapeErrorTests {
    static func expectMessage(_ result: ExitTest.Result?, contains parts: [String], sourceLocation: SourceLocation = #_sourceLocation) {
        guard let result else {
            Issue.record("the exit test did not run or did not fail", sourceLocation: sourceLocation)
            return
        }
        let stderr = String(decoding: result.standardErrorContent, as: UTF8.self)
        for part in parts {
            #expect(stderr.contains(part), "standard error lacks \"\(part)\": \(stderr)", sourceLocation: sourceLocation)
        }
    }

    @Test func broadcastFailureInAdd() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.zeros([2, 3]) + Tensor.zeros([4])
        }
        Self.expectMessage(result, contains: ["add", "[2, 3]", "[4]"])
    }

    @Test func broadcastFailureInMultiply() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.zeros([2, 3, 4], dtype: .float64) * Tensor.zeros([3, 3], dtype: .float64)
        }
        Self.expectMessage(result, contains: ["multiply", "[2, 3, 4]", "[3, 3]"])
    }

    @Test func matmulInnerDimensionMismatch() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.zeros([2, 3]).matmul(Tensor.zeros([4, 5]))
        }
        Self.expectMessage(result, contains: ["matmul", "[2, 3]", "[4, 5]"])
    }

    @Test func matmulBatchMismatch() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.zeros([2, 3, 4]).matmul(Tensor.zeros([3, 4, 5]))
        }
        Self.expectMessage(result, contains: ["matmul", "[2]", "[3]"])
    }

    @Test func reshapeToWrongCount() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.zeros([2, 3]).reshape([4])
        }
        Self.expectMessage(result, contains: ["reshape", "[2, 3]", "[4]"])
    }

    @Test func reshapeWithUnresolvableWildcard() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.zeros([2, 3]).reshape([4, -1])
        }
        Self.expectMessage(result, contains: ["reshape", "[2, 3]", "[4, -1]"])
    }

    @Test func concatenateMismatchedShapes() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.concatenate([Tensor.zeros([2, 3]), Tensor.zeros([3, 4])], axis: 0)
        }
        Self.expectMessage(result, contains: ["concatenate", "[2, 3]", "[3, 4]"])
    }

    @Test func dtypeMismatch() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.zeros([2], dtype: .float32) + Tensor.zeros([2], dtype: .float64)
        }
        Self.expectMessage(result, contains: ["add", "dtype", "float32", "float64"])
    }

    @Test func dtypeMismatchInMatmul() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.zeros([2, 2], dtype: .float64).matmul(Tensor.zeros([2, 2], dtype: .float32))
        }
        Self.expectMessage(result, contains: ["matmul", "float64", "float32"])
    }

    @Test func axisOutOfRange() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.zeros([2, 3]).sum(axis: 2)
        }
        Self.expectMessage(result, contains: ["sum", "axis 2", "rank 2"])
    }

    @Test func expandToIncompatibleShape() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.zeros([2, 3]).expand(to: [4, 3])
        }
        Self.expectMessage(result, contains: ["expand", "[2, 3]", "[4, 3]"])
    }

    @Test func sliceOutOfRange() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.zeros([2, 3]).slice(axis: 1, start: 1, end: 5)
        }
        Self.expectMessage(result, contains: ["slice", "[2, 3]"])
    }

    @Test func indexOutOfRange() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.zeros([5, 4]).indexSelect(axis: 0, indices: IndexTensor(shape: [2], [1, 5]))
        }
        Self.expectMessage(result, contains: ["indexSelect", "[5, 4]"])
    }

    @Test func crossEntropyTargetShape() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.zeros([2, 3]).crossEntropy(targets: IndexTensor(shape: [3], [0, 1, 2]))
        }
        Self.expectMessage(result, contains: ["crossEntropy", "[3]", "[2, 3]"])
    }

    @Test func wrongValueCount() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor(shape: [2, 2], [1, 2, 3] as [Double])
        }
        Self.expectMessage(result, contains: ["3 values", "[2, 2]"])
    }
}
