import Dispatch
import Foundation
import Synchronization
import Testing
@testable import TitansTensor

/// The helper threads that run parallel loops' parts (``WorkerPool``): every part once, parts side by side, and no
/// deadlock when loops nest or several threads start loops at once. Each test has a pool of its own: the shared one
/// is taken by the ops of the tests running beside it, and a loop that finds its pool taken runs its parts in turn.
struct WorkerPoolTests {
    let pool = WorkerPool()

    /// Counts how often each part ran.
    final class Tally: Sendable {
        let counts: Mutex<[Int]>
        init(_ parts: Int) { counts = Mutex([Int](repeating: 0, count: parts)) }
        func mark(_ part: Int) { counts.withLock { $0[part] += 1 } }
        var all: [Int] { counts.withLock { $0 } }
    }

    @Test(arguments: [2, 3, 7, 64])
    func everyPartRunsOnce(parts: Int) {
        let tally = Tally(parts)
        let calls = 2_000
        for _ in 0..<calls { pool.perform(parts) { tally.mark($0) } }
        #expect(tally.all == [Int](repeating: calls, count: parts))
    }

    /// Each of two parts waits for the other to start: only two threads at once can finish (one thread alone would wait
    /// out the deadline), so the parts run side by side, on a helper woken from sleep as well as on a spinning one.
    @Test func partsRunSideBySide() {
        for pause in [0, 2 * WorkerPool.spinNanoseconds] {
            usleep(UInt32(pause / 1_000))
            let started = Atomic<Int>(0), metEachOther = Atomic<Int>(0)
            pool.perform(2) { _ in
                started.add(1, ordering: .sequentiallyConsistent)
                let deadline = DispatchTime.now().uptimeNanoseconds + 5_000_000_000
                while started.load(ordering: .sequentiallyConsistent) < 2, DispatchTime.now().uptimeNanoseconds < deadline {}
                if started.load(ordering: .sequentiallyConsistent) == 2 { metEachOther.add(1, ordering: .relaxed) }
            }
            #expect(metEachOther.load(ordering: .relaxed) == 2, "after a pause of \(pause) ns")
        }
    }

    /// Loops started from several threads at once, each with a loop inside its parts: one distributes, the others
    /// run their parts in turn, and every part of every loop runs once.
    @Test func nestedAndConcurrentLoopsFinish() {
        let outer = Tally(3), inner = Tally(2)
        let callers = 4, calls = 300
        DispatchQueue.concurrentPerform(iterations: callers) { _ in
            for _ in 0..<calls {
                pool.perform(3) { part in
                    outer.mark(part)
                    pool.perform(2) { inner.mark($0) }
                }
            }
        }
        #expect(outer.all == [Int](repeating: callers * calls, count: 3))
        #expect(inner.all == [Int](repeating: callers * calls * 3, count: 2))
    }

}
