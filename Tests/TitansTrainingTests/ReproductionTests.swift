import Foundation
import Testing
@testable import TitansTraining

struct ReproductionTests {
    static let tiny = ReproductionScale(name: "tiny", width: 16, layers: 1, steps: 3, batchSize: 2, learningRate: 3e-3, examplesPerTask: 6,
                                        evaluationExamples: 2, seeds: [0, 1], lengthMultiples: [1, 2], allModels: true)

    /// Every model a study names exists at both scales (a misspelt name would silently drop out of the report).
    @Test(arguments: ReproductionStudy.all.map(\.name))
    func everyModelOfEveryStudyExists(name: String) throws {
        let study = try #require(ReproductionStudy.all.first { $0.name == name })
        for scale in [ReproductionScale.quick, .full] {
            let models = scale.allModels ? study.models : study.quickModels
            #expect(study.cells(at: scale).count == models.count * (study.headline ? scale.seeds.count : 1))
            #expect(Set(study.cells(at: scale).map(\.key)).count == study.cells(at: scale).count)
        }
        #expect(Set(study.quickModels).isSubset(of: study.models))
        #expect(study.trainingTasks.allSatisfy { $0.minimumLength <= study.trainingLength })
    }

    /// Each ablation changes the LMM, and the ablation study reuses the needles study's trained Titans models.
    @Test func ablationsChangeTheModelAndShareTraining() throws {
        let base = try #require(ReproductionScale.full.model("lmm"))
        for name in ReproductionScale.ablations.keys {
            let ablated = try #require(ReproductionScale.full.model("lmm/\(name)"))
            #expect(sortedJSONText(ablated) != sortedJSONText(base), "\(name) changes nothing")
        }
        #expect(ReproductionScale.full.model("lmm/no-such-part") == nil)
        let needles = Set(ReproductionStudy.needles.cells(at: .full).map(\.key))
        let shared = ReproductionStudy.ablations.cells(at: .full).filter { needles.contains($0.key) }.map(\.modelName)
        #expect(shared == ["lmm", "mac", "mag", "mal"])
    }

    /// A cell trains and scores its model: one accuracy per task and tested length.
    @Test func aCellTrainsAndScores() throws {
        var cell = try #require(ReproductionStudy.needles.cells(at: Self.tiny).first)
        cell.trainingLength = 128
        var steps: [Int] = []
        let result = try cell.run(scale: Self.tiny) { step, _ in steps.append(step) }
        #expect(steps == [1, 2, 3])
        #expect(Set(result.metrics.keys) == Set(["s-niah-pk", "s-niah-n", "s-niah-w"].flatMap { t in [128, 256].map { "\(t)@\($0)" } }))
        #expect(result.metrics.values.allSatisfy { (0...1).contains($0) })
        #expect(result.finalLoss.isFinite && result.parameters > 0 && result.scale == "tiny")
    }

    static func result(_ cell: ReproductionCell, _ accuracy: Double) -> ReproductionResult {
        ReproductionResult(study: cell.study, model: cell.label, seed: cell.seed, scale: tiny.name, settings: sortedJSONText(tiny), parameters: 1234,
                           configuration: sortedJSONText(cell.configuration), trainingSeconds: 10, evaluationSeconds: 1, finalLoss: 0.5,
                           metrics: Dictionary(uniqueKeysWithValues: cell.trainingTasks.flatMap { task in
                               cell.lengths(tiny).map { (ReproductionCell.metric(task.name, $0), accuracy) }
                           }))
    }

    /// A model whose training diverges is kept as diverged (no accuracy, the step said), survives a save and a load
    /// (JSON has no NaN), and shows as such in the report.
    @Test func aDivergedModelIsReportedAsSuch() throws {
        var scale = Self.tiny
        scale.learningRate = 1e6
        scale.seeds = [0]
        var cell = try #require(ReproductionStudy.needles.cells(at: scale).first { $0.modelName == "ttt-mlp" })
        cell.trainingLength = 128
        let result = try cell.run(scale: scale)
        let step = try #require(result.divergedAtStep)
        #expect(result.metrics.isEmpty && result.finalLoss.isNaN && step <= scale.steps)

        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("reproduce-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        var results = ReproductionResults()
        results.cells[cell.key] = result
        try results.save(to: folder)
        let loaded = try #require(try ReproductionResults(loadingFrom: folder).cells[cell.key])
        #expect(loaded.divergedAtStep == step && loaded.finalLoss.isNaN && loaded.metrics.isEmpty)
        let text = ReproductionReport(study: .needles, scale: scale, results: results).markdown(chartFile: "x.svg")
        #expect(text.contains("diverged (seed 0 at step \(step))"))
    }

    /// Results survive a save and a load; a cell counts as done only with the same model and scale.
    @Test func resultsResumeOnlyTheSameCells() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("reproduce-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        #expect(try ReproductionResults(loadingFrom: folder).cells.isEmpty)
        let cells = ReproductionStudy.needles.cells(at: Self.tiny)
        var results = ReproductionResults()
        results.cells[cells[0].key] = Self.result(cells[0], 0.5)
        try results.save(to: folder)
        let loaded = try ReproductionResults(loadingFrom: folder)
        #expect(loaded.cells == results.cells)
        #expect(loaded.done(cells[0], scale: Self.tiny) != nil && loaded.done(cells[1], scale: Self.tiny) == nil)
        #expect(loaded.done(cells[0], scale: .quick) == nil)
        var longer = Self.tiny
        longer.steps += 1
        #expect(loaded.done(cells[0], scale: longer) == nil)
        var wider = cells[0]
        wider.configuration.resize(width: 32, heads: 2)
        #expect(loaded.done(wider, scale: Self.tiny) == nil)

        try Data("{ not json".utf8).write(to: ReproductionResults.url(in: folder))
        #expect(throws: ReproductionError.self) { try ReproductionResults(loadingFrom: folder) }
    }

    /// The report gives each measured model a row (the mean and half the range over seeds), leaves out the rest, and
    /// draws a line per model.
    @Test func reportTablesAndCharts() {
        let cells = ReproductionStudy.needles.cells(at: Self.tiny)
        var results = ReproductionResults()
        let mag = cells.filter { $0.modelName == "mag" }
        results.cells[mag[0].key] = Self.result(mag[0], 0.5)
        results.cells[mag[1].key] = Self.result(mag[1], 0.7)
        let lmm = cells.first { $0.modelName == "lmm" && $0.seed == 0 }!
        results.cells[lmm.key] = Self.result(lmm, 1)
        let report = ReproductionReport(study: .needles, scale: Self.tiny, results: results)
        let text = report.markdown(chartFile: "needles.svg")
        let rows = text.split(separator: "\n").map { $0.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) } }
        #expect(rows.contains { $0.prefix(4) == ["Titans (MAG)", "1234", "60.0 ± 10.0", "60.0 ± 10.0"] })
        #expect(rows.contains { $0.prefix(4) == ["Titans (LMM)", "1234", "100.0", "100.0"] })
        #expect(!rows.contains { $0.prefix(2) == ["Titans (MAC)", "1234"] })
        #expect(rows.contains { $0.prefix(2) == ["Titans (MAC)", "99.2"] })  // the paper's table
        #expect(report.chart().series.map(\.name) == ["Titans (LMM)", "Titans (MAG)"])
        #expect(report.chart().series[1].points.allSatisfy { abs($0.y - 0.6) < 1e-12 })
    }

    /// Each claim is judged from the results it needs: agrees, disagrees, or cannot tell when they are missing or close.
    @Test func claimsAreJudgedOnTheResults() {
        let cells = (ReproductionStudy.needles.cells(at: Self.tiny) + ReproductionStudy.ablations.cells(at: Self.tiny)).filter { $0.seed == 0 }
        func results(_ accuracy: [String: Double]) -> ReproductionResults {
            var results = ReproductionResults()
            for cell in cells { if let a = accuracy[cell.modelName] { results.cells[cell.key] = Self.result(cell, a) } }
            return results
        }
        func verdicts(_ r: ReproductionResults) -> [ReproductionClaims.Verdict] { ReproductionClaims.judged(r, scale: Self.tiny).map(\.verdict) }
        #expect(verdicts(results([:])) == Array(repeating: .cannotTell, count: 8))
        let paperLike = ["lmm": 0.6, "mac": 0.9, "mag": 0.8, "mal": 0.8, "delta-net": 0.3, "sliding-window": 0.1,
                         "lmm/linear-memory": 0.4, "lmm/no-momentum": 0.45, "lmm/no-convolution": 0.5, "lmm/no-persistent": 0.58,
                         "lmm/no-forgetting": 0.3]
        #expect(verdicts(results(paperLike)) == [.agrees, .agrees, .agrees, .agrees, .agrees, .cannotTell, .agrees, .agrees])
        let contrary = ["lmm": 0.2, "mac": 0.1, "mag": 0.1, "mal": 0.1, "delta-net": 0.5, "sliding-window": 0.6,
                        "lmm/linear-memory": 0.4, "lmm/no-momentum": 0.45, "lmm/no-convolution": 0.5, "lmm/no-persistent": 0.58,
                        "lmm/no-forgetting": 0.6]
        #expect(verdicts(results(contrary)) == Array(repeating: .disagrees, count: 8))
        let close = ["lmm": 0.5, "mac": 0.52, "mag": 0.5, "mal": 0.5, "delta-net": 0.48, "sliding-window": 0.49,
                     "lmm/linear-memory": 0.5, "lmm/no-momentum": 0.5, "lmm/no-convolution": 0.5, "lmm/no-persistent": 0.5,
                     "lmm/no-forgetting": 0.5]
        #expect(verdicts(results(close)) == Array(repeating: .cannotTell, count: 8))
    }
}
