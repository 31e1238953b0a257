import Foundation
import TitansTensor

/// The order and the concurrency in which `titans reproduce` runs its cells. Trained cells go first, the first seed
/// of every study before the second of any (a run stopped early has every table), `jobs` at a time, each on a core of
/// its own (for machines with more cores than a model's batch has parts); a cell fine-tuned from another cell of the
/// run starts only once that one has ended, so it reads the saved model instead of training it a second time (the
/// next cell in order starts meanwhile); timed cells go last, one at a time with every core, so nothing else runs
/// while they are timed. A cell's numbers do not depend on `jobs`
/// (``TrainableModel/accumulateGradients(on:scale:parts:)`` cuts its batches into the same parts either way).
///
/// ```swift
/// let queue = ReproductionQueue(cells)
/// try queue.run(scale: .quick, jobs: 2, progress: { cell, step in print(cell.key, step) }) { cell, result in
///     results.cells[cell.key] = result   // one call at a time
/// }
/// ```
public struct ReproductionQueue: Sendable {
    /// The cells in the order they start.
    public let cells: [ReproductionCell]

    public init(_ cells: [ReproductionCell]) {
        func rank(_ cell: (offset: Int, element: ReproductionCell)) -> (Int, UInt64, Int) {
            (cell.element.isTimed ? 1 : 0, cell.element.seed, cell.offset)
        }
        self.cells = cells.enumerated().sorted { rank($0) < rank($1) }.map(\.element)
    }

    /// Runs every cell, keeping the trained models in `models` (where fine-tuned cells find their base models).
    /// `progress` sees each training step of each cell, from the cell's thread; `finished` is called once per cell as it
    /// ends, never twice at once. The first error stops the queue: the cells running end, no other starts, and the error
    /// is thrown.
    public func run(scale: ReproductionScale, jobs: Int, models: ReproductionModels? = nil, progress: (ReproductionCell, Int) -> Void,
                    finished: (ReproductionCell, ReproductionResult) throws -> Void) throws {
        let trained = cells.filter { !$0.isTimed }
        let schedule = Schedule(trained)
        _ = Parallel.shards(max(1, min(jobs, trained.count))) { _ in
            while let cell = schedule.next() {
                do {
                    let result = try cell.run(scale: scale, models: models) { step, _ in progress(cell, step) }
                    try schedule.handing { try finished(cell, result) }
                    schedule.ended(cell, error: nil)
                } catch {
                    schedule.ended(cell, error: error)
                }
            }
        }
        if let error = schedule.error { throw error }
        for cell in cells where cell.isTimed {
            try finished(cell, try cell.run(scale: scale, models: models))
        }
    }
}

/// Which trained cell starts next: the first in order whose base cell, if it has one in this run, has ended; with none
/// such while some are left, a job waits for a cell to end. After an error none starts. Its state is only read and
/// written under `condition`.
private final class Schedule: @unchecked Sendable {
    private let condition = NSCondition()
    private var waiting: [ReproductionCell]
    private var unfinished: Set<String>
    private var firstError: (any Error)?

    init(_ cells: [ReproductionCell]) {
        (waiting, unfinished) = (cells, Set(cells.map(\.key)))
    }

    var error: (any Error)? { condition.withLock { firstError } }

    /// The next cell to run, or nil when none is left or a cell failed.
    func next() -> ReproductionCell? {
        condition.withLock {
            while firstError == nil, !waiting.isEmpty {
                if let index = waiting.firstIndex(where: { cell in
                    guard case .model(let base) = cell.start else { return true }
                    return !unfinished.contains(base.key)
                }) {
                    return waiting.remove(at: index)
                }
                condition.wait()  // every cell left is fine-tuned from one still running
            }
            return nil
        }
    }

    /// Runs `body` (handing a result over) under the lock: never two at once.
    func handing(_ body: () throws -> Void) rethrows {
        try condition.withLock { try body() }
    }

    /// `cell` has ended, with `error` if it failed: the cells waiting for it may start.
    func ended(_ cell: ReproductionCell, error: (any Error)?) {
        condition.withLock {
            unfinished.remove(cell.key)
            firstError = firstError ?? error
            condition.broadcast()
        }
    }
}

extension ReproductionCell {
    /// Whether the cell is timed (its figures are speeds) rather than trained.
    public var isTimed: Bool {
        if case .throughput = workload { return true }
        return false
    }
}
