import Synchronization

/// Counts the floating-point operations of matrix products: 2·m·n·k for each product of a batch, forward and
/// backward alike. This is the convention of model-FLOPs utilisation (elementwise work is not counted), which
/// `titans bench models` reports against the measured sgemm peak. Counting is task-local, as ``GradMode`` is: ops
/// running elsewhere at the same time (tests in parallel) are not counted.
///
/// ```swift
/// let flops = FLOPCount.counting { _ = a.matmul(b) }   // 2·m·n·k
/// ```
public enum FLOPCount {
    final class Counter: Sendable {
        let total = Atomic<Int>(0)
        let parent: Counter?
        init(parent: Counter?) { self.parent = parent }
    }

    @TaskLocal private static var current: Counter?

    static var isCounting: Bool { current != nil }

    /// The count ops here add to, to carry onto another thread (``Parallel/shards(_:_:)``).
    static var currentCounter: Counter? { current }

    /// Runs `body` adding to `counter` (taken from another thread).
    static func continuing<R>(_ counter: Counter?, _ body: () -> R) -> R { $current.withValue(counter, operation: body) }

    static func add(_ flops: Int) {
        var counter = current
        while let c = counter {
            c.total.wrappingAdd(flops, ordering: .relaxed)
            counter = c.parent
        }
    }

    /// The matrix-product FLOPs of the ops `body` runs.
    public static func counting(_ body: () throws -> Void) rethrows -> Int {
        let counter = Counter(parent: current)
        try $current.withValue(counter, operation: body)
        return counter.total.load(ordering: .relaxed)
    }
}
