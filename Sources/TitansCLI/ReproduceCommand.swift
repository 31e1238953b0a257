import ArgumentParser
import Foundation
import Synchronization
import TitansEval
import TitansTraining

/// `titans reproduce`: the paper's experiments at the scale this machine runs, as one report.
struct ReproduceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reproduce",
        abstract: "Run the paper's studies at this machine's scale and write report.md, an SVG per study and results.json.",
        discussion: "Studies: \(ReproductionStudy.all.map { "\($0.name) (\($0.title))" }.joined(separator: "; ")). Each model "
            + "of a study is trained on the study's tasks or text and scored at the training length and longer; every model "
            + "of a scale has about the same number of parameters and training bytes. The language studies read --corpus "
            + "(default data/kjv.txt, written by `bash scripts/fetch-corpus`); without it they are left out, said once. The "
            + "forecasting and DNA studies read the files of `bash scripts/fetch-series` and `bash scripts/fetch-dna` (--series "
            + "and --dna name other folders); a dataset whose files are missing is left out, said once. "
            + "Resumable: every finished model is kept in results.json and skipped when the run is started again with the "
            + "same --output. --quick trains a few small models briefly to check the whole pipeline in minutes."
    )

    @Flag(help: "A few small models, briefly (minutes): checks the pipeline, not the paper's claims.") var quick = false
    @Option(help: "Comma-separated studies to run (default: all).") var only: String?
    @Option(help: "Folder for report.md, the charts and results.json.") var output = "titans-reproduce"
    @Option(help: "Training steps per model, for every study alike (default: the scale's; on tasks, text, series and DNA: 300, 150, 60 and 60 quick, 1800, 1000, 1000 and 500 full; fine-tuning on BABILong-style stories 300 quick and 7200 full for the models that attend and the DeltaNets, 75 and 1800 (of larger batches) for the LMM and the other recurrent baselines).")
    var steps: Int?
    @Option(help: "Seeds per model (default: the scale's, 1 quick or 2 full).") var seeds: Int?
    @Option(help: "Text for the language studies (default: data/kjv.txt when it exists).") var corpus: String?
    @Option(help: "Folder of the forecasting study's series, as `bash scripts/fetch-series` writes it (default data/series).")
    var series = "data/series"
    @Option(help: "Folder of the DNA study's files, as `bash scripts/fetch-dna` writes it (default data/dna).") var dna = "data/dna"
    @Option(help: "Models trained side by side, each on one core (a machine with more cores than a batch has parts); timed models run alone afterwards. The numbers do not depend on it.")
    var jobs = 1

    @OptionGroup var computeDevice: DeviceOption

    func run() throws {
        try computeDevice.apply()
        var scale = quick ? ReproductionScale.quick : .full
        if let steps {
            guard steps >= 1 else { throw ValidationError("--steps must be at least 1") }
            (scale.steps, scale.languageSteps, scale.smallBatchFineTuning.steps, scale.largeBatchFineTuning.steps) = (steps, steps, steps, steps)
            (scale.domains.forecastSteps, scale.domains.classificationSteps) = (steps, steps)
        }
        guard jobs >= 1 else { throw ValidationError("--jobs must be at least 1") }
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
        let text = try readCorpus(needed: studies.contains { study in
            switch study.kind {
            case .language, .depth, .ablations: return true
            default: return false
            }
        })
        let domains = try readDomains(needed: studies.contains { study in
            switch study.kind {
            case .forecasting, .dna: return true
            default: return false
            }
        }, shown: results.cells.keys.contains(where: ReproductionStudy.isDomainTraining))
        let unplaced = results.keysWithoutCells(scale: scale, corpus: text, domains: domains)
        if !unplaced.isEmpty {
            print("Note: \(unplaced.count) earlier result(s) in results.json (such as \(unplaced[0])) are left out of report.md: "
                  + "their study's data is missing here (`bash scripts/fetch-corpus`, `fetch-series`, `fetch-dna`, or --corpus, "
                  + "--series, --dna) or --seeds leaves their seed out. They stay in results.json; a run with their data shows them again.")
        }
        var keys = Set<String>()  // a model shared by studies (the ablations' LMM, MAC, MAG and MAL) trains once
        let cells = studies.flatMap { $0.cells(at: scale, corpus: text, domains: domains) }.filter { keys.insert($0.key).inserted }
        let left = cells.filter { results.done($0, scale: scale) == nil }
        print("\(scale.name) scale: \(cells.count) models to train or time in \(studies.count) stud\(studies.count == 1 ? "y" : "ies"), "
              + "\(cells.count - left.count) already in \(ReproductionResults.url(in: folder).path). Matmul: \(BLAS.backendName)")
        let start = Date()
        let models = ReproductionModels(folder: folder)
        // Progress in training steps, summed over the cells running; a timed model counts as one.
        let stepCounts = Dictionary(left.map { ($0.key, $0.steps(scale, models: models)) }, uniquingKeysWith: { first, _ in first })
        let progress = Mutex((bar: Progress(total: stepCounts.values.reduce(0, +), label: "reproduce"), done: 0,
                              running: [String: Int]()))
        try ReproductionQueue(left).run(scale: scale, jobs: jobs, models: models, progress: { cell, step in
            progress.withLock { p in
                p.running[cell.key] = step
                p.bar.update(p.done + p.running.values.reduce(0, +), p.running.keys.sorted().joined(separator: ", "))
            }
        }, finished: { cell, result in
            progress.withLock { p in
                p.running[cell.key] = nil
                p.done += stepCounts[cell.key] ?? 0
                p.bar.update(p.done + p.running.values.reduce(0, +), cell.key)
            }
            results.cells[cell.key] = result
            try results.save(to: folder)
            try write(studies, scale: scale, results: results, corpus: text, domains: domains, to: folder)
        })
        try write(studies, scale: scale, results: results, corpus: text, domains: domains, to: folder)
        print("Wrote \(folder.appendingPathComponent("report.md").path) (\(String(format: "%.0f", Date().timeIntervalSince(start))) s this run)")
    }

    /// The text of the language studies: --corpus, or data/kjv.txt when it exists; `nil` (said once when they are
    /// `needed`) when neither is there. When they are not run, the text only names their earlier results in the report,
    /// and a text that cannot be read is passed over.
    private func readCorpus(needed: Bool) throws -> ReproductionCorpus? {
        let path = corpus ?? "data/kjv.txt"
        guard needed else {
            return FileManager.default.fileExists(atPath: path) ? try? ReproductionCorpus(contentsOf: URL(fileURLWithPath: path)) : nil
        }
        guard corpus != nil || FileManager.default.fileExists(atPath: path) else {
            print("No text for the language studies (data/kjv.txt is missing): they are left out. `bash scripts/fetch-corpus` "
                  + "fetches it; --corpus FILE takes any other.")
            return nil
        }
        do {
            return try ReproductionCorpus(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw ReproductionError.unreadableCorpus(path: path, reason: String(describing: error))
        }
    }

    /// The series and DNA of the forecasting and DNA studies: those in --series and --dna (the datasets missing a file
    /// named once when the studies are `needed`; a file there that cannot be read is an error then, and passed over when
    /// they are only `shown`, with earlier results, in the report; not read at all when neither).
    private func readDomains(needed: Bool, shown: Bool) throws -> ReproductionDomainData {
        guard needed || shown else { return ReproductionDomainData() }
        do {
            let (data, missing) = try ReproductionDomainData.standard(seriesFolder: URL(fileURLWithPath: series),
                                                                      dnaFolder: URL(fileURLWithPath: dna))
            if needed && !missing.isEmpty {
                print("Left out (missing files; `bash scripts/fetch-series` and `bash scripts/fetch-dna` fetch them): "
                      + missing.joined(separator: "; "))
            }
            return data
        } catch {
            guard needed else { return ReproductionDomainData() }
            throw CommandError("the data of the forecasting and DNA studies cannot be used: \(error). Fetch it again with "
                               + "`bash scripts/fetch-series` and `bash scripts/fetch-dna`, or leave those studies out with --only")
        }
    }

    /// report.md and one chart per study, from every result so far.
    private func write(_ studies: [ReproductionStudy], scale: ReproductionScale, results: ReproductionResults,
                       corpus: ReproductionCorpus?, domains: ReproductionDomainData, to folder: URL) throws {
        var text = "# Titans, reproduced at small scale\n\n"
        let seconds = results.seconds(scale: scale.name)
        let options = (quick ? " --quick" : "") + (only.map { " --only \($0)" } ?? "") + (steps.map { " --steps \($0)" } ?? "")
            + (seeds.map { " --seeds \($0)" } ?? "") + (self.corpus.map { " --corpus \($0)" } ?? "")
            + (series == "data/series" ? "" : " --series \(series)") + (dna == "data/dna" ? "" : " --dna \(dna)")
        text += "Last written by `titans reproduce\(options)` (with the studies earlier runs left in this folder) on "
            + "\(ProcessInfo.processInfo.activeProcessorCount) cores "
            + "(matmul: \(BLAS.backendName)); the models in this report took \(Progress.clock(seconds.model)) to train and score, "
            + "\(Progress.clock(seconds.wall)) of wall time. "
            + "Every number below is in `results.json` with its model's configuration, seed and time.\n\n"
        for study in ReproductionStudy.reported(running: studies, results: results, scale: scale, corpus: corpus, domains: domains) {
            let report = ReproductionReport(study: study, scale: scale, results: results, corpus: corpus, domains: domains)
            let chart = "\(study.name).svg"
            text += report.markdown(chartFile: chart)
            try report.chart().write(to: folder.appendingPathComponent(chart))
        }
        text += ReproductionClaims.markdown(results, scale: scale, corpus: corpus, domains: domains)
        try Data(text.utf8).write(to: folder.appendingPathComponent("report.md"), options: .atomic)
    }
}
