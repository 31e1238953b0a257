import CTitansKernels
import Dispatch
import Foundation
import Synchronization

/// Helper threads, one per extra core, that take parts of a parallel loop (`Parallel.forRanges`, `GEMMSlabs`) beside
/// the calling thread. A helper that has finished spins for a short while before it sleeps, so the next op's parts start at
/// once: the memory's inner loop issues parallel ops every 10–100 µs, and waking a sleeping thread for each (as
/// `DispatchQueue.concurrentPerform` does) put a seventh of a memory layer's samples in the kernel's wake-up and
/// task-switch paths (`perf record` of `titans bench memory`).
///
/// Parts are claimed, not assigned: the caller takes parts until none is left, so a helper that the machine's load
/// keeps off its core delays nothing it has not started. One caller distributes at a time; a caller that finds the
/// pool taken (another thread's loop, or a loop inside a part) runs its parts itself, in order.
final class WorkerPool: @unchecked Sendable {
    static let shared = WorkerPool()

    /// How long a helper keeps looking for its next job before it sleeps.
    static let spinNanoseconds: UInt64 = 50_000

    /// One helper thread's mailbox: the last job it was called to (`ticket`), whether it sleeps, its wake-up signal.
    private final class Helper: @unchecked Sendable {
        let ticket = Atomic<UInt64>(0)
        let sleeping = Atomic<Bool>(false)
        let condition = NSCondition()
    }

    private let distributing = Atomic<Bool>(false)
    /// The job's number (high 32 bits), its part count (next 16) and the next part to claim (low 16): one word, so a
    /// claim is made only for the job its claimer was called to.
    private let claims = Atomic<UInt64>(0)
    /// Parts of the current job that have returned.
    private let done = Atomic<Int>(0)
    /// Started helpers; read and grown only by the caller that holds `distributing`.
    private var helpers: [Helper] = []
    /// The current job's body, set before its parts can be claimed and kept until they have all returned.
    private var body: ((Int) -> Void)?
    private var job: UInt64 = 0

    /// Runs `body(0..<parts)` on the calling thread and up to `parts − 1` helpers; returns when every part has returned.
    func perform(_ parts: Int, _ body: (Int) -> Void) {
        guard parts > 1, parts < 1 << 16,
              distributing.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged else {
            for part in 0..<parts { body(part) }
            return
        }
        defer { distributing.store(false, ordering: .releasing) }
        startHelpers(parts - 1)
        let team = helpers.prefix(parts - 1)
        withoutActuallyEscaping(body) { body in
            self.body = body
            job = job == 0xFFFF_FFFF ? 1 : job + 1  // 32 bits, never 0 (a helper's ticket before its first job)
            done.store(0, ordering: .relaxed)
            claims.store(job << 32 | UInt64(parts) << 16, ordering: .releasing)
            for helper in team {
                helper.ticket.store(job, ordering: .sequentiallyConsistent)
                if helper.sleeping.load(ordering: .sequentiallyConsistent) {
                    helper.condition.lock()
                    helper.condition.signal()
                    helper.condition.unlock()
                }
            }
            runParts(of: job)
            while done.load(ordering: .acquiring) < parts { titans_spin_pause() }
            self.body = nil
        }
    }

    /// Claims and runs parts of job `job` until none is left (or that job is over).
    private func runParts(of job: UInt64) {
        var word = claims.load(ordering: .acquiring)
        while word >> 32 == job, word & 0xFFFF < (word >> 16) & 0xFFFF {
            let (exchanged, seen) = claims.compareExchange(expected: word, desired: word + 1, ordering: .acquiringAndReleasing)
            guard exchanged else { word = seen; continue }
            body?(Int(word & 0xFFFF))
            done.add(1, ordering: .releasing)
            word = claims.load(ordering: .acquiring)
        }
    }

    /// Starts helpers until `count` are running (called while `distributing` is held).
    private func startHelpers(_ count: Int) {
        while helpers.count < count {
            let helper = Helper()
            let thread = Thread { self.serve(helper) }
            thread.name = "titans-worker-\(helpers.count + 1)"
            thread.stackSize = 8 << 20
            thread.start()
            helpers.append(helper)
        }
    }

    /// A helper's loop: wait for a new ticket (spinning, then asleep), then take parts of that job.
    private func serve(_ helper: Helper) {
        var served: UInt64 = 0
        while true {
            var deadline: UInt64 = 0
            var spins = 0
            while helper.ticket.load(ordering: .sequentiallyConsistent) == served {
                spins += 1
                if spins & 63 != 0 { titans_spin_pause(); continue }
                let now = DispatchTime.now().uptimeNanoseconds
                if deadline == 0 { deadline = now + Self.spinNanoseconds; continue }
                if now < deadline { continue }
                helper.condition.lock()
                helper.sleeping.store(true, ordering: .sequentiallyConsistent)
                while helper.ticket.load(ordering: .sequentiallyConsistent) == served { helper.condition.wait() }
                helper.sleeping.store(false, ordering: .relaxed)
                helper.condition.unlock()
                deadline = 0
            }
            served = helper.ticket.load(ordering: .acquiring)
            runParts(of: served)
        }
    }
}
