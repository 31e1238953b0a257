import ArgumentParser
import Foundation
import TitansEval
import TitansTraining

/// `titans reproduce`: the paper's experiments at the scale this machine runs, as one report.
struct ReproduceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reproduce",
        abstract: "Run the paper's studies at this machine's scale and write report.md, an SVG per study and results.json.",
        discussion: "Studies: \(ReproductionStudy.all.map { "\($0.name) (\($0.title))" }.joined(separator: "; ")). Each model "
            + "of a study is trained on the study's tasks and scored at the training length and longer. Resumable: "
            + "every finished model is kept in results.json and skipped when the run is started again with the same "
            + "--output. --quick trains a few small models briefly to check the whole pipeline in minutes."
    )

    @Flag(help: "A few small models, briefly (minutes): checks the pipeline, not the paper's claims.") var quick = false
    @Option(help: "Comma-separated studies to run (default: all).") var only: String?
    @Option(help: "Folder for report.md, the charts and results.json.") var output = "titans-reproduce"
    @Option(help: "Training steps per model (default: the scale's, 150 quick or 600 full).") var steps: Int?
    @Option(help: "Seeds per model (default: the scale's, 1 quick or 2 full).") var seeds: Int?

    func run() throws {
        var scale = quick ? ReproductionScale.quick : .full
        if let steps {
            guard steps >= 1 else { throw ValidationError("--steps must be at least 1") }
            scale.steps = steps
        }
        if let seeds {
            guard seeds >= 1 else { throw ValidationError("--seeds must be at least 1") }
            scale.seeds = (0..<UInt64(seeds)).map { $0 }
        }
        let names = only.map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }
        var studies = ReproductionStudy.all
        if let names {
            guard !names.isEmpty else { throw ValidationError("--only takes study names, comma-separated: \(ReproductionStudy.all.map(\.name).joined(separator: ", "))") }
            studies = try names.map { name in
                guard let study = ReproductionStudy.all.first(where: { $0.name == name }) else { throw ReproductionError.unknownStudy(name) }
                return study
            }
        }
        let folder = URL(fileURLWithPath: output)
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        } catch {
            throw CommandError("cannot create the folder \(folder.path) (\((error as NSError).localizedDescription)); choose another --output")
        }
        var results = try ReproductionResults(loadingFrom: folder)
        var keys = Set<String>()  // a model shared by studies (the needles study's Titans in the ablations) trains once
        let cells = studies.flatMap { $0.cells(at: scale) }.filter { keys.insert($0.key).inserted }
        let left = cells.filter { results.done($0, scale: scale) == nil }
        print("\(scale.name) scale: \(cells.count) models to train in \(studies.count) stud\(studies.count == 1 ? "y" : "ies"), "
              + "\(cells.count - left.count) already in \(ReproductionResults.url(in: folder).path). Matmul: \(BLAS.backendName)")
        let start = Date()
        var progress = Progress(total: left.count * scale.steps, label: "reproduce")
        for (i, cell) in left.enumerated() {
            let result = try cell.run(scale: scale) { step, _ in
                progress.update(i * scale.steps + step, "\(cell.key)")
            }
            results.cells[cell.key] = result
            try results.save(to: folder)
            try write(studies, scale: scale, results: results, to: folder)
        }
        try write(studies, scale: scale, results: results, to: folder)
        print("Wrote \(folder.appendingPathComponent("report.md").path) (\(String(format: "%.0f", Date().timeIntervalSince(start))) s this run)")
    }

    /// report.md and one chart per study, from every result so far.
    private func write(_ studies: [ReproductionStudy], scale: ReproductionScale, results: ReproductionResults, to folder: URL) throws {
        var text = "# Titans, reproduced at small scale\n\n"
        let total = results.cells.values.filter { $0.scale == scale.name }.map { $0.trainingSeconds + $0.evaluationSeconds }.reduce(0, +)
        let options = (quick ? " --quick" : "") + (only.map { " --only \($0)" } ?? "") + (steps.map { " --steps \($0)" } ?? "")
            + (seeds.map { " --seeds \($0)" } ?? "")
        text += "`titans reproduce\(options)` on \(ProcessInfo.processInfo.activeProcessorCount) cores "
            + "(matmul: \(BLAS.backendName)); the models in this report took \(String(format: "%.0f", total)) s to train and score. "
            + "Every number below is in `results.json` with its model's configuration, seed and time.\n\n"
        for study in studies {
            let report = ReproductionReport(study: study, scale: scale, results: results)
            let chart = "\(study.name).svg"
            text += report.markdown(chartFile: chart)
            try report.chart().write(to: folder.appendingPathComponent(chart))
        }
        text += ReproductionClaims.markdown(results, scale: scale)
        try Data(text.utf8).write(to: folder.appendingPathComponent("report.md"), options: .atomic)
    }
}
