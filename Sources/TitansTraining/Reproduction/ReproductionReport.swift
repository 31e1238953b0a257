import Foundation
import TitansEval

/// The report of a study: our numbers as a Markdown table (the mean over seeds, and half the range between seeds when
/// there are several), the paper's beside them, the scale stated, and a chart.
///
/// ```swift
/// let report = ReproductionReport(study: .needles, scale: .quick, results: results, corpus: nil)
/// print(report.markdown(chartFile: "needles.svg"))
/// try report.chart().write(to: folder.appendingPathComponent("needles.svg"))
/// ```
public struct ReproductionReport {
    public var study: ReproductionStudy
    public var scale: ReproductionScale
    public var results: ReproductionResults
    /// The text of the language studies (`nil`: they were not run).
    public var corpus: ReproductionCorpus?
    /// The series and DNA of the forecasting and DNA studies.
    public var domains: ReproductionDomainData

    public init(study: ReproductionStudy, scale: ReproductionScale, results: ReproductionResults, corpus: ReproductionCorpus?,
                domains: ReproductionDomainData = .init()) {
        (self.study, self.scale, self.results, self.corpus, self.domains) = (study, scale, results, corpus, domains)
    }

    /// The study's models that have results, in the study's order, with every result of theirs (all seeds, and each
    /// training of the ablations and the depth study, told apart by `study`).
    var measured: [(cell: ReproductionCell, results: [ReproductionResult])] {
        var byModel: [(ReproductionCell, [ReproductionResult])] = []
        for cell in study.cells(at: scale, corpus: corpus, domains: domains) {
            guard let result = results.done(cell, scale: scale) else { continue }
            if let i = byModel.firstIndex(where: { $0.0.modelName == cell.modelName }) {
                byModel[i].1.append(result)
            } else {
                byModel.append((cell, [result]))
            }
        }
        return byModel
    }

    /// Mean and half-range over seeds of `metric` (`97.5` or `97.5 ± 1.2`), each value times `factor`.
    static func cell(_ results: [ReproductionResult], factor: Double = 100, digits: Int = 1,
                     _ metric: (ReproductionResult) -> Double?) -> String {
        let values = results.compactMap(metric).map { $0 * factor }
        guard !values.isEmpty else { return "–" }
        let mean = values.reduce(0, +) / Double(values.count)
        let spread = ((values.max() ?? 0) - (values.min() ?? 0)) / 2
        return values.count > 1 ? String(format: "%.\(digits)f ± %.\(digits)f", mean, spread) : String(format: "%.\(digits)f", mean)
    }

    static func mean(_ values: [Double]) -> Double? { values.isEmpty ? nil : values.reduce(0, +) / Double(values.count) }

    /// The mean accuracy over `tasks` at `length` of one result.
    static func average(_ result: ReproductionResult, _ tasks: [any LongContextTask], _ length: Int) -> Double? {
        mean(tasks.compactMap { result.metrics[ReproductionCell.metric($0.name, length)] })
    }

    /// A model's mean accuracy over an accuracy study's tasks and seeds at each multiple of its training length (nil
    /// where a length is missing). `results` may hold other trainings too: only `study`'s count.
    static func accuracyCurve(_ study: ReproductionStudy, _ results: [ReproductionResult], _ scale: ReproductionScale) -> [Double]? {
        guard case .accuracy(let tasks, let length) = study.kind else { return nil }
        let own = results.filter { $0.study == study.name }
        let curve = scale.lengthMultiples.map { m in mean(own.compactMap { average($0, tasks, m * length) }) }
        return curve.contains { $0 == nil } ? nil : curve.compactMap { $0 }
    }


    /// The mean bits per byte over seeds of a model's training `study` (`language`, `language@512`) at `length`.
    static func bitsPerByte(_ results: [ReproductionResult], study: String, _ length: Int) -> Double? {
        mean(results.filter { $0.study == study }.compactMap { $0.metrics[ReproductionCell.metric("bpb", length)] })
    }

    public func markdown(chartFile: String) -> String {
        var text = "## \(study.title)\n\n\(study.about)\n\n\(scaleLine)\n\n"
        let measured = self.measured
        if measured.isEmpty {
            let missing: String?
            switch study.kind {
            case .language, .depth: missing = corpus == nil ? "no text to train on (`bash scripts/fetch-corpus`, or `--corpus FILE`)" : nil
            case .forecasting: missing = domains.series.isEmpty ? "no series (`bash scripts/fetch-series`, or `--series DIR`)" : nil
            case .dna:
                missing = domains.sequences.isEmpty && domains.genome == nil ? "no DNA (`bash scripts/fetch-dna`, or `--dna DIR`)" : nil
            default: missing = nil
            }
            return text + (missing.map { "Not run: \($0).\n\n" } ?? "No model of this study has finished yet.\n\n")
        }
        text += table(measured) + "\n![\(study.title)](\(chartFile))\n\nThe paper:\n\n\(study.paperTable)\n"
        return text
    }

    /// How this study was run at this scale, in one paragraph.
    var scaleLine: String {
        let seeds = study.seeds(scale).map(String.init).joined(separator: ", ")
        let spread = study.seeds(scale).count > 1 ? ", mean ± half the range over seeds" : ""
        let models = "Scale (`\(scale.name)`): width \(scale.width), \(scale.layers) blocks, feed-forward layers sized so every "
            + "model has about MAC's parameter count"
        let text = corpus.map { "; text: \($0.fingerprint), the last tenth held out" } ?? ""
        switch study.kind {
        case .accuracy(_, let length):
            func recipe(_ r: ReproductionScale.FineTuning) -> String { "\(r.steps) steps of \(r.batchSize) at learning rate \(r.learningRate)" }
            let steps = study.fineTunes == nil ? "\(scale.steps) steps of \(scale.sequencesPerStep(ofLength: length))"
                : "after its base model's \(scale.steps) steps, fine-tuned for \(recipe(scale.smallBatchFineTuning)) (the models that "
                    + "attend and the DeltaNets) or \(recipe(scale.largeBatchFineTuning)) (the LMM and the other recurrent baselines), of"
            return models + ", \(steps) sequences of \(length) bytes, \(scale.examplesPerTask) "
                + "training examples per task, \(scale.evaluationExamples) test examples per task and length, seeds \(seeds). "
                + "Accuracy in percent (exact match of greedy decoding)\(spread)."
        case .language, .depth:
            return models + ", \(scale.languageSteps) steps of \(scale.batchSize * 256) bytes (in sequences of the training "
                + "length), seeds \(seeds)\(text). Bits per byte on up to \(scale.evaluationBytes) held-out bytes (lower is "
                + "better)\(spread)."
        case .ablations:
            return models + "; each model trained as in the needles and language studies (and BABILong-style for the models of that study), seed \(seeds)\(text). "
                + "Long context: the mean S-NIAH accuracy (percent) over every tested length, as the paper's; BABILong-style "
                + "the same for the models its study trains."
        case .forecasting:
            let d = scale.domains
            return "Scale (`\(scale.name)`): backbones of width \(d.width), \(Self.blocks(d.layers)), feed-forward layers sized so every "
                + "backbone has about MAC's parameter count (DLinear has none); lookback \(d.lookback), patches of \(d.patchLength) "
                + "steps, \(d.forecastSteps) steps of \(d.forecastBatchSize) one-column windows, learning rate \(d.learningRate), "
                + "seeds \(seeds); test windows scored: all, or every n-th where there are more than \(d.maximumTestSeries) "
                + "windows × columns (the last column says). MSE and MAE on the normalised test part (lower is better)\(spread); "
                + "the best of each row in bold."
        case .dna:
            let d = scale.domains
            return "Scale (`\(scale.name)`): classifiers of width \(d.width), \(Self.blocks(d.layers)) (feed-forward layers sized to MAC's "
                + "parameter count), \(d.classificationSteps) steps of \(d.classificationBatchSize) sequences, learning rate "
                + "\(d.learningRate); language models as in the language study (width \(scale.width), \(scale.layers) blocks, "
                + "\(scale.languageSteps) steps of \(scale.batchSize * 256) bases); seeds \(seeds). Accuracy in percent on the "
                + "held-out sequences; bits per nucleotide on up to \(scale.evaluationBytes) held-out bases (lower is better)\(spread)."
        case .efficiency:
            return models + "; untrained, batch 1, random bytes, the fastest of one timed run after a warm-up. Bytes per "
                + "second of a training step (forward, backward, AdamW) and of a forward pass, on "
                + "\(ProcessInfo.processInfo.activeProcessorCount) cores (matmul: \(BLAS.backendName))."
        }
    }

    /// The study's table (and, for the accuracy studies, the mean over tasks).
    func table(_ measured: [(cell: ReproductionCell, results: [ReproductionResult])]) -> String {
        func seconds(_ results: [ReproductionResult]) -> String {
            String(format: "%.0f", results.map { $0.trainingSeconds + $0.evaluationSeconds }.reduce(0, +) / Double(max(1, results.count)))
        }
        switch study.kind {
        case .accuracy(let tasks, let length):
            let lengths = scale.lengthMultiples.map { $0 * length }
            var table = MarkdownTable(headers: ["model", "parameters"] + tasks.flatMap { task in lengths.map { "\(Self.short(task.name)) \($0)" } }
                                      + ["s per seed"])
            var average = MarkdownTable(headers: ["model"] + lengths.map { "mean \($0)" })
            for (cell, results) in measured {
                var row = [cell.label, String(results[0].parameters)]
                    + tasks.flatMap { task in lengths.map { length in Self.cell(results) { $0.metrics[ReproductionCell.metric(task.name, length)] } } }
                    + [seconds(results)]
                let diverged = results.compactMap { r in r.divergedAtStep.map { "seed \(r.seed) at step \($0)" } }
                if !diverged.isEmpty { row[2] = "diverged (\(diverged.joined(separator: ", ")))" }
                table.append(row)
                average.append([cell.label] + lengths.map { length in Self.cell(results) { Self.average($0, tasks, length) } })
            }
            return table.render() + "\nMean over \(tasks.map(\.name).joined(separator: ", ")):\n\n" + average.render()
        case .language:
            let lengths = ReproductionStudy.languageMultiples.map { $0 * ReproductionStudy.languageLength }
            var table = MarkdownTable(headers: ["model", "parameters"] + lengths.map { "bpb \($0)" } + ["final training loss", "s per seed"])
            for (cell, results) in measured {
                table.append([cell.label, String(results[0].parameters)] + lengths.map { Self.bitsPerByteCell(results, $0) }
                             + [Self.cell(results, factor: 1, digits: 3) { $0.finalLoss.isFinite ? $0.finalLoss : nil }, seconds(results)])
            }
            return table.render()
        case .depth:
            var table = MarkdownTable(headers: ["model", "parameters"] + scale.depthLengths.map { "bpb, trained at \($0)" })
            for (cell, results) in measured {
                table.append([cell.label, String(results[0].parameters)] + scale.depthLengths.map { length in
                    Self.bitsPerByte(results, study: "language@\(length)", length).map { String(format: "%.3f", $0) } ?? "–"
                })
            }
            return table.render()
        case .ablations:
            let bpb = ReproductionStudy.languageLength, longest = bpb * (ReproductionStudy.languageMultiples.last ?? 1)
            var table = MarkdownTable(headers: ["model", "parameters", "bpb \(bpb)", "bpb \(longest)", "long context (S-NIAH)",
                                                "BABILong-style"])
            for (cell, results) in measured {
                let needles = Self.accuracyCurve(.needles, results, scale).flatMap(Self.mean)
                let babilong = Self.accuracyCurve(.babilong, results, scale).flatMap(Self.mean)
                let percent = { (x: Double?) in x.map { String(format: "%.1f", 100 * $0) } ?? "–" }
                table.append([cell.label, String(results[0].parameters),
                              Self.bitsPerByte(results, study: "language", bpb).map { String(format: "%.3f", $0) } ?? "–",
                              Self.bitsPerByte(results, study: "language", longest).map { String(format: "%.3f", $0) } ?? "–",
                              percent(needles), percent(babilong)])
            }
            return table.render()
        case .efficiency:
            let lengths = scale.efficiencyLengths
            var table = MarkdownTable(headers: ["model", "parameters"] + lengths.map { "train \($0)" } + lengths.map { "forward \($0)" }
                                      + ["train, longest / shortest"])
            for (cell, results) in measured {
                func speed(_ kind: String, _ length: Int?) -> Double? { results[0].metrics[ReproductionCell.metric(kind, length ?? 0)] }
                func text(_ x: Double?, _ format: String) -> String { x.map { String(format: format, $0) } ?? "–" }
                var row = [cell.label, String(results[0].parameters)]
                row += lengths.map { text(speed("training", $0), "%.0f") }
                row += lengths.map { text(speed("forward", $0), "%.0f") }
                let ratio = speed("training", lengths.last).flatMap { a in speed("training", lengths.first).map { a / $0 } }
                table.append(row + [text(ratio, "%.2f")])
            }
            return table.render()
        case .forecasting:
            return "MSE:\n\n" + forecastTable("mse", measured) + "\nMAE:\n\n" + forecastTable("mae", measured) + diverged(measured)
        case .dna:
            let lengths = ReproductionStudy.languageMultiples.map { $0 * ReproductionStudy.languageLength }
            let tasks = domains.sequences.map(\.name)
            var table = MarkdownTable(headers: ["model", "parameters"] + tasks.map { "\($0) accuracy" }
                                      + lengths.map { "bits per nucleotide \($0)" } + ["s per seed"])
            for (cell, results) in measured {
                let parameters = (tasks.map(ReproductionStudy.dnaTraining) + [ReproductionStudy.dnaLanguageTraining])
                    .compactMap { study in results.first { $0.study == study }.map { String($0.parameters) } }.joined(separator: " / ")
                table.append([cell.label, parameters]
                             + tasks.map { task in Self.cell(results.filter { $0.study == ReproductionStudy.dnaTraining(task) }) { $0.metrics["accuracy"] } }
                             + lengths.map { Self.bitsPerByteCell(results.filter { $0.study == ReproductionStudy.dnaLanguageTraining }, $0) }
                             + [String(format: "%.0f", results.map { $0.trainingSeconds + $0.evaluationSeconds }.reduce(0, +)
                                       / Double(max(1, Set(results.map(\.seed)).count)))])
            }
            return table.render() + "\nParameters: each task's classifier (\(tasks.joined(separator: ", "))), then the language "
                + "model (its width and byte embedding and head are the language study's).\n" + diverged(measured)
        }
    }

    /// Bits per byte at `length` over the seeds of `results`, or the seeds at which they were not finite.
    static func bitsPerByteCell(_ results: [ReproductionResult], _ length: Int) -> String {
        let name = ReproductionCell.metric("bpb", length)
        let blownUp = results.filter { $0.nonFiniteMetrics.contains(name) }.map { "seed \($0.seed)" }
        let value = cell(results, factor: 1, digits: 3) { $0.metrics[name] }
        return blownUp.isEmpty ? value : "not finite (\(blownUp.joined(separator: ", ")))" + (value == "–" ? "" : "; \(value)")
    }

    /// The forecasting study's table of `metric` (`mse` or `mae`): a row per series and horizon, and per series the
    /// mean over its horizons (the paper's Table 3 reports that mean); a column per model, the best of a row in bold.
    func forecastTable(_ metric: String, _ measured: [(cell: ReproductionCell, results: [ReproductionResult])]) -> String {
        var table = MarkdownTable(headers: ["series", "horizon"] + measured.map(\.cell.label) + ["test windows scored"])
        func row(_ series: String, _ horizon: String, _ values: [[Double]], scored: String) {
            let means = values.map { Self.mean($0) }
            let best = means.compactMap { $0 }.min()
            table.append([series, horizon] + values.map { v in
                guard let mean = Self.mean(v) else { return "–" }
                let spread = ((v.max() ?? 0) - (v.min() ?? 0)) / 2
                let text = v.count > 1 ? String(format: "%.3f ± %.3f", mean, spread) : String(format: "%.3f", mean)
                return mean == best ? "**\(text)**" : text
            } + [scored])
        }
        for series in domains.series {
            var perHorizon: [[Double?]] = []  // per horizon, per model: the mean over seeds
            for horizon in scale.domains.horizons {
                let own = measured.map { $0.results.filter { $0.study == ReproductionStudy.forecastTraining(series.name, horizon: horizon) } }
                guard let any = own.first(where: { $0.contains { !$0.metrics.isEmpty } })?.first(where: { !$0.metrics.isEmpty }) else { continue }
                let values = own.map { $0.compactMap { $0.metrics[metric] } }
                perHorizon.append(values.map { Self.mean($0) })
                let stride = Int(any.metrics["test-stride"] ?? 1), windows = Int(any.metrics["test-windows"] ?? 0)
                row(series.name, String(horizon), values, scored: stride == 1 ? "all \(windows)" : "1 in \(stride): \(windows)")
            }
            if perHorizon.count > 1 {
                let means = measured.indices.map { m in perHorizon.count == perHorizon.compactMap({ $0[m] }).count
                    ? [perHorizon.compactMap { $0[m] }.reduce(0, +) / Double(perHorizon.count)] : [] }
                row(series.name, "mean", means, scored: "")
            }
        }
        return table.render()
    }

    /// A line naming the trainings that diverged, if any.
    func diverged(_ measured: [(cell: ReproductionCell, results: [ReproductionResult])]) -> String {
        let lines = measured.flatMap { m in
            m.results.compactMap { r in r.divergedAtStep.map { "\(m.cell.label) on \(r.study), seed \(r.seed), at step \($0)" } }
        }
        return lines.isEmpty ? "" : "\nDiverged (no scores): " + lines.joined(separator: "; ") + ".\n"
    }

    /// The study's chart: accuracy, bits per byte or speed against length, a line per model.
    public func chart() -> LineChart {
        let measured = self.measured
        func series(_ points: ([ReproductionResult]) -> [(x: Double, y: Double)]) -> [LineChart.Series] {
            measured.map { LineChart.Series(name: $0.cell.label, points: points($0.results)) }
        }
        func points(_ xs: [Int], _ y: (Int) -> Double?) -> [(x: Double, y: Double)] {
            xs.compactMap { x in y(x).map { (x: Double(x), y: $0) } }
        }
        var chart: LineChart
        switch study.kind {
        case .accuracy(_, let length):
            chart = LineChart(title: study.title, xLabel: "length (bytes); trained at \(length)", yLabel: "accuracy",
                              series: series { results in
                                  zip(scale.lengthMultiples, Self.accuracyCurve(study, results, scale) ?? []).map { (x: Double($0 * length), y: $1) }
                              })
            chart.yRange = 0...1
            chart.reference = (Double(length), "training length")
        case .language:
            let lengths = ReproductionStudy.languageMultiples.map { $0 * ReproductionStudy.languageLength }
            chart = LineChart(title: study.title, xLabel: "length read (bytes); trained at \(ReproductionStudy.languageLength)",
                              yLabel: "bits per byte", series: series { results in
                                  points(lengths) { Self.bitsPerByte(results, study: "language", $0) }
                              })
            chart.reference = (Double(ReproductionStudy.languageLength), "training length")
        case .depth:
            chart = LineChart(title: study.title, xLabel: "training length (bytes)", yLabel: "bits per byte", series: series { results in
                points(scale.depthLengths) { Self.bitsPerByte(results, study: "language@\($0)", $0) }
            })
        case .ablations:
            chart = LineChart(title: study.title + ": long-context accuracy", xLabel: "length, times the training length",
                              yLabel: "S-NIAH accuracy", series: series { results in
                                  zip(scale.lengthMultiples, Self.accuracyCurve(.needles, results, scale) ?? []).map { (x: Double($0), y: $1) }
                              })
            chart.yRange = 0...1
        case .forecasting:
            chart = LineChart(title: study.title + ": MSE, mean over the series", xLabel: "horizon (steps)", yLabel: "test MSE",
                              series: series { results in
                                  points(scale.domains.horizons) { horizon in
                                      let trainings = Set(domains.series.map { ReproductionStudy.forecastTraining($0.name, horizon: horizon) })
                                      return Self.mean(results.filter { trainings.contains($0.study) }
                                          .compactMap { $0.metrics["mse"] })
                                  }
                              })
        case .dna:
            let lengths = ReproductionStudy.languageMultiples.map { $0 * ReproductionStudy.languageLength }
            chart = LineChart(title: study.title + ": promoter DNA", xLabel: "length read (bases); trained at \(ReproductionStudy.languageLength)",
                              yLabel: "bits per nucleotide", series: series { results in
                                  points(lengths) { Self.bitsPerByte(results, study: ReproductionStudy.dnaLanguageTraining, $0) }
                              })
            chart.reference = (Double(ReproductionStudy.languageLength), "training length")
        case .efficiency:
            chart = LineChart(title: study.title, xLabel: "sequence length (bytes), batch 1", yLabel: "training bytes/s",
                              series: series { results in
                                  points(scale.efficiencyLengths) { results[0].metrics[ReproductionCell.metric("training", $0)] }
                              })
        }
        chart.logarithmicX = true
        return chart
    }

    /// `n blocks`, in words that read.
    static func blocks(_ n: Int) -> String { n == 1 ? "1 block" : "\(n) blocks" }

    /// A task's name in a column header (`s-niah-pk` → `PK`).
    static func short(_ task: String) -> String {
        task.hasPrefix("s-niah-") ? String(task.dropFirst(7)).uppercased() : task
    }
}
