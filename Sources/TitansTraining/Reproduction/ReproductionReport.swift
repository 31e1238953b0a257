import Foundation
import TitansEval

/// The report of a study: our numbers as a Markdown table (the mean over seeds, and half the range between seeds when
/// there are several), the paper's beside them, the scale stated, and a chart of accuracy against length.
///
/// ```swift
/// let report = ReproductionReport(study: .needles, scale: .quick, results: results)
/// print(report.markdown(chartFile: "needles.svg"))
/// try report.chart().write(to: folder.appendingPathComponent("needles.svg"))
/// ```
public struct ReproductionReport {
    public var study: ReproductionStudy
    public var scale: ReproductionScale
    public var results: ReproductionResults

    public init(study: ReproductionStudy, scale: ReproductionScale, results: ReproductionResults) {
        (self.study, self.scale, self.results) = (study, scale, results)
    }

    /// The study's cells that have results, by model in the study's order.
    var measured: [(cell: ReproductionCell, results: [ReproductionResult])] {
        var byModel: [(ReproductionCell, [ReproductionResult])] = []
        for cell in study.cells(at: scale) {
            guard let result = results.done(cell, scale: scale) else { continue }
            if let i = byModel.firstIndex(where: { $0.0.modelName == cell.modelName }) {
                byModel[i].1.append(result)
            } else {
                byModel.append((cell, [result]))
            }
        }
        return byModel
    }

    /// Mean and half-range over seeds of `metric`, as text (`97.5` or `97.5 ± 1.2`), in percent.
    static func cell(_ results: [ReproductionResult], _ metric: (ReproductionResult) -> Double?) -> String {
        let values = results.compactMap(metric)
        guard !values.isEmpty else { return "–" }
        let mean = 100 * values.reduce(0, +) / Double(values.count)
        let spread = 100 * ((values.max() ?? 0) - (values.min() ?? 0)) / 2
        return values.count > 1 ? String(format: "%.1f ± %.1f", mean, spread) : String(format: "%.1f", mean)
    }

    /// The mean accuracy over the study's tasks at `length`.
    func average(_ result: ReproductionResult, _ length: Int) -> Double? {
        let values = study.trainingTasks.compactMap { result.metrics[ReproductionCell.metric($0.name, length)] }
        return values.isEmpty ? nil : values.reduce(0, +) / Double(values.count)
    }

    public func markdown(chartFile: String) -> String {
        let lengths = scale.lengthMultiples.map { $0 * study.trainingLength }
        let measured = self.measured
        var text = "## \(study.title)\n\n\(study.about)\n\n"
        text += "Scale (`\(scale.name)`): width \(scale.width), \(scale.layers) blocks, \(scale.steps) steps of \(scale.batchSize) "
            + "sequences of \(study.trainingLength) bytes, \(scale.examplesPerTask) training examples per task, "
            + "\(scale.evaluationExamples) test examples per task and length, seeds \(study.seeds(scale).map(String.init).joined(separator: ", ")). "
            + "Accuracy in percent (exact match of greedy decoding)\(study.seeds(scale).count > 1 ? ", mean ± half the range over seeds" : "").\n\n"
        guard !measured.isEmpty else { return text + "No cell of this study has finished yet.\n\n" }
        let tasks = study.trainingTasks.map(\.name)
        var table = MarkdownTable(headers: ["model", "parameters"] + tasks.flatMap { task in lengths.map { "\(Self.short(task)) \($0)" } }
                                  + ["train s"])
        for (cell, results) in measured {
            var row = [cell.label, String(results[0].parameters)]
                + tasks.flatMap { task in lengths.map { length in Self.cell(results) { $0.metrics[ReproductionCell.metric(task, length)] } } }
                + [String(format: "%.0f", results.map(\.trainingSeconds).reduce(0, +) / Double(results.count))]
            let diverged = results.compactMap { r in r.divergedAtStep.map { "seed \(r.seed) at step \($0)" } }
            if !diverged.isEmpty { row[2] = "diverged (\(diverged.joined(separator: ", ")))" }
            table.append(row)
        }
        text += table.render() + "\n"
        if tasks.count > 1 {
            var average = MarkdownTable(headers: ["model"] + lengths.map { "mean \($0)" })
            for (cell, results) in measured {
                average.append([cell.label] + lengths.map { length in Self.cell(results) { self.average($0, length) } })
            }
            text += "Mean over \(tasks.joined(separator: ", ")):\n\n" + average.render() + "\n"
        }
        text += "![\(study.title)](\(chartFile))\n\nThe paper:\n\n\(study.paperTable)\n"
        return text
    }

    /// Mean accuracy over the study's tasks against length, a line per model.
    public func chart() -> LineChart {
        let lengths = scale.lengthMultiples.map { $0 * study.trainingLength }
        var chart = LineChart(title: study.title, xLabel: "length (bytes); trained at \(study.trainingLength)", yLabel: "accuracy",
                              series: measured.map { cell, results in
                                  .init(name: cell.label, points: lengths.compactMap { length in
                                      let values = results.compactMap { average($0, length) }
                                      return values.isEmpty ? nil : (x: Double(length), y: values.reduce(0, +) / Double(values.count))
                                  })
                              })
        chart.logarithmicX = true
        chart.yRange = 0...1
        chart.reference = (Double(study.trainingLength), "training length")
        return chart
    }

    /// A task's name in a column header (`s-niah-pk` → `PK`).
    static func short(_ task: String) -> String {
        task.hasPrefix("s-niah-") ? String(task.dropFirst(7)).uppercased() : task
    }
}
