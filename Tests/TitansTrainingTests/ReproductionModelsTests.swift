import Foundation
import Testing
@testable import TitansTraining

/// Fine-tuned cells (the BABILong-style study starts from the needles models) and the folder of trained models.
struct ReproductionModelsTests {
    /// A BABILong-style cell of the tiny scale and the needles cell it starts from, with fewer tested lengths.
    static func fineTunedCell() throws -> (cell: ReproductionCell, base: ReproductionCell) {
        var cell = try #require(ReproductionStudy.babilong.cells(at: ReproductionTests.tiny, corpus: nil).first { $0.seed == 0 })
        cell.multiples = [1]
        guard case .model(let base) = cell.start else {
            Issue.record("the BABILong-style cell does not start from a model")
            throw CancellationError()
        }
        #expect(base.key == "needles/\(cell.modelName)/seed0" && base.configuration == cell.configuration)
        return (cell, base)
    }

    /// The fine-tuned cell's result is the same whether its base model is trained within it or read from the folder
    /// (where the base cell's own run saved it), bit for bit; a damaged saved model is trained again; and starting from
    /// the base model changes the result against starting from scratch.
    @Test func aFineTunedCellStartsFromItsBaseModelTrainedOrRead() throws {
        let scale = ReproductionTests.tiny
        let (cell, base) = try Self.fineTunedCell()
        let folder = try ReproductionTests.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let models = ReproductionModels(folder: folder)

        let recipe = scale.fineTuning(for: cell.configuration)
        let both = scale.steps + recipe.steps
        #expect(recipe.steps != scale.steps)
        #expect(cell.steps(scale, models: models) == both)  // the base is not saved yet: trained within
        var steps: [Int] = []
        let within = try cell.run(scale: scale) { step, total in
            steps.append(step)
            #expect(total == both)
        }
        #expect(steps == Array(1...both))

        _ = try base.run(scale: scale, models: models)
        let saved = try Checkpoint.load(from: models.url(of: base))
        #expect(saved.metadata["reproduction"] == base.key)
        #expect(cell.steps(scale, models: models) == recipe.steps)
        steps = []
        let read = try cell.run(scale: scale, models: models) { step, _ in steps.append(step) }
        #expect(steps == Array(1...recipe.steps))
        #expect(read.finalLoss == within.finalLoss && read.metrics == within.metrics && !read.metrics.isEmpty)
        #expect(FileManager.default.fileExists(atPath: models.url(of: cell).path))

        try Data("not a checkpoint".utf8).write(to: models.url(of: base))
        let retrained = try cell.run(scale: scale, models: models)
        #expect(retrained.finalLoss == within.finalLoss && retrained.metrics == within.metrics)
        #expect(try Checkpoint.load(from: models.url(of: base)).metadata["reproduction"] == base.key)  // saved again

        var scratch = cell
        scratch.start = .scratch
        #expect(try scratch.run(scale: scale).finalLoss != within.finalLoss)
        #expect(scratch.settings(scale) != cell.settings(scale))  // results from scratch are not taken for fine-tuned ones
        var longer = scale
        longer.smallBatchFineTuning.steps += 1
        #expect(cell.settings(longer) != cell.settings(scale) && base.settings(longer) == base.settings(scale))
        // A recipe of the scale's batch and rate is named as before recipes had them (those results stay valid); another
        // batch or rate is named, and the cell trains with it.
        #expect(cell.modelName == "mac" && cell.settings(scale).hasSuffix(", fine-tuned for \(recipe.steps) steps"))
        #expect(cell.batchSize(scale) == recipe.batchSize && base.batchSize(scale) == max(1, scale.batchSize * 256 / base.trainingLength))
        for change in [{ (s: inout ReproductionScale) in s.smallBatchFineTuning.batchSize += 1 }, { $0.smallBatchFineTuning.learningRate *= 2 }] {
            var other = scale
            change(&other)
            #expect(cell.settings(other) != cell.settings(scale) && base.settings(other) == base.settings(scale))
            #expect(cell.settings(other).hasSuffix(" of \(other.smallBatchFineTuning.batchSize) at learning rate \(other.smallBatchFineTuning.learningRate)"))
        }
    }

    /// The models that attend and the DeltaNets take the small-batch fine-tuning, the LMM and the other recurrent
    /// baselines the large one: their steps, batch and learning rate.
    @Test func eachKindOfModelTakesItsFineTuning() throws {
        let scale = ReproductionTests.tiny
        let cells = ReproductionStudy.babilong.cells(at: scale, corpus: nil).filter { $0.seed == 0 }
        for cell in cells {
            let small = ["mac", "mag", "mal", "sliding-window", "gated-delta-net"].contains(cell.modelName)
            #expect(small != (cell.modelName == "lmm"), "\(cell.modelName)")
            let recipe = small ? scale.smallBatchFineTuning : scale.largeBatchFineTuning
            #expect(scale.fineTuning(for: cell.configuration) == recipe, "\(cell.modelName)")
            #expect(cell.steps(scale, models: nil) == scale.steps + recipe.steps && cell.batchSize(scale) == recipe.batchSize)
        }
        let lmm = try #require(cells.first { $0.modelName == "lmm" })
        #expect(lmm.settings(scale).hasSuffix(", fine-tuned for 5 steps of 2 at learning rate 0.001"))
        for baseline in RecurrentBaseline.allCases {  // by kind, for the baselines the study does not fine-tune too
            let recipe = scale.fineTuning(for: .recurrentBaseline(baseline))
            let exact = baseline == .deltaNet || baseline == .gatedDeltaNet
            #expect(recipe == (exact ? scale.smallBatchFineTuning : scale.largeBatchFineTuning), "\(baseline)")
        }
    }

    /// A base model that diverges makes the fine-tuned cell diverge at that step, without scores.
    @Test func aDivergedBaseModelEndsTheFineTunedCell() throws {
        var scale = ReproductionTests.tiny
        scale.learningRate = 1e6
        var (cell, _) = try Self.fineTunedCell()
        let tttMLP = try #require(scale.model("ttt-mlp"))
        cell.configuration = tttMLP
        cell.start = .model(of: try #require(ReproductionStudy.needles.cells(at: scale, corpus: nil).first { $0.modelName == "ttt-mlp" }))
        let result = try cell.run(scale: scale)
        let step = try #require(result.divergedAtStep)
        #expect(step <= scale.steps && result.metrics.isEmpty)
    }
}
