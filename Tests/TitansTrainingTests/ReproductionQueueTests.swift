import Foundation
import Synchronization
import Testing
@testable import TitansTraining

struct ReproductionQueueTests {
    /// The first `count` cells of the tiny needles study, at a length every needle fits (the word needle needs over 128
    /// bytes).
    static func needleCells(_ count: Int) -> [ReproductionCell] {
        ReproductionStudy.needles.cells(at: ReproductionTests.tiny, corpus: nil).prefix(count).map { cell in
            var cell = cell
            cell.trainingLength = 192
            return cell
        }
    }

    /// Trained cells start before timed ones, the first seed of every study before the second of any, and otherwise in
    /// the order given.
    @Test func cellsStartSeedByStudyAndTimedLast() throws {
        let scale = ReproductionTests.tiny
        let timed = ReproductionStudy.efficiency.cells(at: scale, corpus: nil)
        let needles = ReproductionStudy.needles.cells(at: scale, corpus: nil)
        let babilong = ReproductionStudy.babilong.cells(at: scale, corpus: nil)
        let queue = ReproductionQueue(timed + needles + babilong)
        let trained = needles + babilong
        #expect(queue.cells.map(\.key) == (trained.filter { $0.seed == 0 } + trained.filter { $0.seed == 1 } + timed).map(\.key))
    }

    /// Four small models trained two at a time: each is handed over once, never two at once, with the results of
    /// training them one after another, bit for bit (a model beside another cuts its batches into the same parts).
    @Test func modelsTrainedSideBySideMatchOneAtATime() throws {
        let scale = ReproductionTests.tiny
        let cells = Self.needleCells(4)
        func run(jobs: Int) throws -> [String: ReproductionResult] {
            let handing = Atomic<Int>(0), overlapped = Atomic<Bool>(false)
            var results: [String: ReproductionResult] = [:], steps: [String: Int] = [:]
            let stepLock = Mutex(())
            try ReproductionQueue(cells).run(scale: scale, jobs: jobs, progress: { cell, step in
                stepLock.withLock { _ in steps[cell.key] = step }
            }, finished: { cell, result in
                if handing.add(1, ordering: .sequentiallyConsistent).newValue > 1 { overlapped.store(true, ordering: .sequentiallyConsistent) }
                #expect(results[cell.key] == nil)
                results[cell.key] = result
                Thread.sleep(forTimeInterval: 0.01)  // room for another hand-over to overlap, if the queue allowed it
                handing.subtract(1, ordering: .sequentiallyConsistent)
            })
            let didOverlap = overlapped.load(ordering: .sequentiallyConsistent)
            #expect(!didOverlap)
            #expect(steps == Dictionary(uniqueKeysWithValues: cells.map { ($0.key, scale.steps) }))
            return results
        }
        let together = try run(jobs: 2), alone = try run(jobs: 1)
        #expect(Set(together.keys) == Set(cells.map(\.key)) && Set(alone.keys) == Set(together.keys))
        for (key, result) in together {
            let other = try #require(alone[key])
            #expect(result.finalLoss == other.finalLoss && result.metrics == other.metrics, "\(key)")
        }
    }

    /// A cell fine-tuned from a cell of the same run starts only once that one has ended, and reads its saved model: two
    /// jobs, the fine-tuned cell right after its base and a third cell after it — the fine-tuned one starts after the
    /// base's result is handed over and takes only its own steps, and every cell ends once. (Which job takes the third
    /// cell is not tested: under load the two jobs may run one after the other.)
    @Test func aFineTunedCellWaitsForItsBase() throws {
        let scale = ReproductionTests.tiny
        var fineTuned = try #require(ReproductionStudy.babilong.cells(at: scale, corpus: nil).first)
        guard case .model(var base) = fineTuned.start else { Issue.record("babilong cells start from a model"); return }
        base.trainingLength = 192
        fineTuned.start = .model(of: base)
        let other = Self.needleCells(2).first { $0.key != base.key }!
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("queue-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let events = Mutex<[String]>([])
        let stepCounts = Mutex<[String: Int]>([:])
        try ReproductionQueue([base, fineTuned, other]).run(scale: scale, jobs: 2, models: ReproductionModels(folder: folder),
                                                            progress: { cell, step in
            let first = stepCounts.withLock { counts in
                defer { counts[cell.key, default: 0] += 1 }
                return counts[cell.key] == nil
            }
            if first { events.withLock { $0.append("start \(cell.key)") } }
        }, finished: { cell, _ in events.withLock { $0.append("end \(cell.key)") } })
        let log = events.withLock { $0 }
        let position = { (event: String) in log.firstIndex(of: event) ?? -1 }
        #expect(position("end \(base.key)") < position("start \(fineTuned.key)"), "\(log)")
        #expect(log.filter { $0.hasPrefix("end ") }.sorted() == [base, fineTuned, other].map { "end \($0.key)" }.sorted())
        #expect(FileManager.default.fileExists(atPath: ReproductionModels(folder: folder).url(of: base).path))
        #expect(stepCounts.withLock { $0[fineTuned.key] } == fineTuned.ownSteps(scale))
    }

    /// A failure to keep a result stops the queue: no new model starts, and the error is thrown.
    @Test func aFailureStopsTheQueue() throws {
        struct Full: Error {}
        let cells = Self.needleCells(6)
        var handed = 0
        #expect(throws: Full.self) {
            try ReproductionQueue(cells).run(scale: ReproductionTests.tiny, jobs: 2, progress: { _, _ in }) { _, _ in
                handed += 1
                throw Full()
            }
        }
        #expect((1...2).contains(handed))  // the model beside the first may still end; none starts after
    }

    /// Wall time counts models that ran side by side once, and a model without an end time (from a run before
    /// side-by-side runs) whole.
    @Test func wallTimeIsTheUnionOfTheModelsTimes() {
        var results = ReproductionResults()
        let cells = Self.needleCells(4)
        for (cell, (seconds, end)) in zip(cells, [(10.0, 110.0), (20.0, 105.0), (5.0, 200.0), (7.0, Double?.none)]) {
            var result = ReproductionTests.result(cell, 0.5)
            (result.trainingSeconds, result.evaluationSeconds, result.finishedAt) = (seconds - 1, 1, end)
            results.cells[cell.key] = result
        }
        // [100, 110] and [85, 105] overlap in [85, 110]: 25 s; then 5 s alone, and 7 s without an end.
        let seconds = results.seconds(scale: ReproductionTests.tiny.name)
        #expect(seconds.model == 42 && seconds.wall == 37)
        #expect(results.seconds(scale: "quick") == (0, 0))
    }
}
