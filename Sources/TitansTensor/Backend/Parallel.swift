import Dispatch
import Foundation

/// Splits loops across the machine's cores when they are large enough to pay for it.
enum Parallel {
    static let threadCount = max(1, ProcessInfo.processInfo.activeProcessorCount)

    /// Elements below which an elementwise loop stays on the calling thread.
    static let elementwiseGrain = 1 << 15

    /// Calls `body` on disjoint ranges covering `0..<count`, in parallel when each thread would get at least `grain` items.
    @inline(__always)
    static func forRanges(_ count: Int, grain: Int, _ body: (Range<Int>) -> Void) {
        let chunks = min(threadCount, count / max(grain, 1))
        if chunks <= 1 {
            if count > 0 { body(0..<count) }
            return
        }
        DispatchQueue.concurrentPerform(iterations: chunks) { c in
            let start = count * c / chunks, end = count * (c + 1) / chunks
            body(start..<end)
        }
    }
}
