import Foundation
import Synchronization
import TitansTensor

/// The order and the concurrency in which `titans reproduce` runs its cells. Trained cells go first, the first seed
/// of every study before the second of any (a run stopped early has every table), `jobs` at a time, each on a core of
/// its own (for machines with more cores than a model's batch has parts); timed cells go last, one at a time with
/// every core, so nothing else runs while they are timed. A cell's numbers do not depend on `jobs`
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
        let state = Mutex<(next: Int, error: (any Error)?)>((0, nil))
        _ = Parallel.shards(max(1, min(jobs, trained.count))) { _ in
            while let cell = state.withLock({ state -> ReproductionCell? in
                guard state.error == nil, state.next < trained.count else { return nil }
                defer { state.next += 1 }
                return trained[state.next]
            }) {
                do {
                    let result = try cell.run(scale: scale, models: models) { step, _ in progress(cell, step) }
                    try state.withLock { _ in try finished(cell, result) }
                } catch {
                    state.withLock { state in state.error = state.error ?? error }
                }
            }
        }
        if let error = state.withLock({ $0.error }) { throw error }
        for cell in cells where cell.isTimed {
            try finished(cell, try cell.run(scale: scale, models: models))
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
