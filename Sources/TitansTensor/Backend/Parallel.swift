import Dispatch
import Foundation
import Synchronization

/// Splits work across the machine's cores: loops when they are large enough to pay for it (`forRanges(_:grain:_:)`),
/// and whole computations, such as the halves of a training batch, one per core (``shards(_:_:)``), inside which
/// every op stays on its own thread.
///
/// ```swift
/// let halves = Parallel.shards(2) { part in model.loss(on: parts[part]).item() }   // side by side, a core each
/// Parallel.setThreadCount(1)                                                       // or TITANS_THREADS=1
/// ```
public enum Parallel {
    /// The cores this process uses: `TITANS_THREADS` when set, else every core; ``setThreadCount(_:)`` changes it (a
    /// process sharing the machine with others, such as one rank of several under MPI, takes its share).
    private static let threads = Atomic<Int>(chosenThreads ?? max(1, ProcessInfo.processInfo.activeProcessorCount))

    /// `TITANS_THREADS`, when it holds a number.
    private static let chosenThreads = ProcessInfo.processInfo.environment["TITANS_THREADS"].flatMap { Int($0) }.map { max(1, $0) }

    /// The cores this process spreads its work over.
    public static var threadCount: Int { threads.load(ordering: .relaxed) }

    /// Uses `count` cores (at least 1) from now on.
    public static func setThreadCount(_ count: Int) { threads.store(max(1, count), ordering: .relaxed) }

    /// Whether the user chose the thread count (`TITANS_THREADS`).
    public static var threadCountChosen: Bool { chosenThreads != nil }

    /// Set on the threads of ``shards(_:_:)``: the cores are already busy, so ops run on the calling thread.
    @TaskLocal private static var confined = false

    /// How many ``shards(_:_:)`` calls are running: while none is, no thread is confined, and the task-local is not
    /// read (every op asks, and decoding runs hundreds of small ops per token).
    private static let runningShards = Atomic<Int>(0)

    /// Cores an op may spread over from here: all of them, or 1 inside a shard.
    public static var availableThreads: Int {
        runningShards.load(ordering: .relaxed) == 0 || !confined ? threadCount : 1
    }

    /// Elements below which an elementwise loop stays on the calling thread.
    static let elementwiseGrain = 1 << 15

    /// Calls `body` on disjoint ranges covering `0..<count`, in parallel when each thread would get at least `grain` items.
    @inline(__always)
    static func forRanges(_ count: Int, grain: Int, _ body: (Range<Int>) -> Void) {
        let chunks = min(availableThreads, count / max(grain, 1))
        if chunks <= 1 {
            if count > 0 { body(0..<count) }
            return
        }
        WorkerPool.shared.perform(chunks) { c in
            let start = count * c / chunks, end = count * (c + 1) / chunks
            body(start..<end)
        }
    }

    /// `0..<count` cut into at most `parts` contiguous ranges of nearly equal size (none empty).
    public static func evenRanges(_ count: Int, parts: Int) -> [Range<Int>] {
        let parts = max(1, min(parts, count))
        return (0..<parts).map { (count * $0 / parts)..<(count * ($0 + 1) / parts) }
    }

    /// `body(0..<count)`'s results in order, computed concurrently, each on its own thread with every op inside it
    /// kept on that thread, and with the caller's gradient recording, FLOP counting and op-profile confinement.
    public static func shards<R>(_ count: Int, _ body: (Int) -> R) -> [R] {
        if count <= 1 || confined { return (0..<count).map(body) }
        let recording = GradMode.isEnabled, counting = FLOPCount.currentCounter, profiled = OpProfile.isCountedHere
        runningShards.add(1, ordering: .relaxed)
        defer { runningShards.subtract(1, ordering: .relaxed) }
        return [R](unsafeUninitializedCapacity: count) { slots, initialized in
            let slots = slots  // each iteration initialises its own slot
            DispatchQueue.concurrentPerform(iterations: count) { i in
                $confined.withValue(true) {
                    GradMode.with(enabled: recording) {
                        FLOPCount.continuing(counting) {
                            OpProfile.continuing(countedHere: profiled) { slots.initializeElement(at: i, to: body(i)) }
                        }
                    }
                }
            }
            initialized = count  // concurrentPerform returns after every iteration
        }
    }
}
