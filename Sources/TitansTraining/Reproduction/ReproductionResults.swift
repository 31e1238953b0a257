import Foundation

/// What one cell of a study measured, with everything needed to know how: the model's configuration, its seed and
/// scale, the time taken.
public struct ReproductionResult: Codable, Sendable, Equatable {
    public var study: String
    public var model: String
    public var seed: UInt64
    public var scale: String
    /// The scale's settings as JSON: a cell is reused only under the same settings.
    public var settings: String
    public var parameters: Int
    /// The model's configuration as JSON.
    public var configuration: String
    public var trainingSeconds: Double
    public var evaluationSeconds: Double
    /// Mean training loss (nats per answer byte) over the last 20 steps (NaN when training diverged).
    public var finalLoss: Double
    /// By name (`s-niah-pk@256`: accuracy of that task at that length); none when training diverged.
    public var metrics: [String: Double]
    /// The step at which the loss or the gradient stopped being finite, when training diverged.
    public var divergedAtStep: Int? = nil
    /// Metrics that came out NaN or infinite (a trained model whose predictions blow up at some length): named here,
    /// left out of `metrics` (JSON has no NaN).
    public var nonFiniteMetrics: [String] = []
    /// When the cell ended (seconds since 1970): with its training and scoring time, when it ran (absent in results of
    /// runs that trained one model at a time).
    public var finishedAt: Double? = nil

    enum CodingKeys: String, CodingKey {
        case study, model, seed, scale, settings, parameters, configuration, trainingSeconds, evaluationSeconds, finalLoss, metrics,
             divergedAtStep, nonFiniteMetrics, finishedAt
    }

    public init(study: String, model: String, seed: UInt64, scale: String, settings: String, parameters: Int, configuration: String,
                trainingSeconds: Double, evaluationSeconds: Double, finalLoss: Double, metrics: [String: Double],
                divergedAtStep: Int? = nil) {
        (self.study, self.model, self.seed, self.scale, self.settings, self.parameters) = (study, model, seed, scale, settings, parameters)
        (self.configuration, self.trainingSeconds, self.evaluationSeconds) = (configuration, trainingSeconds, evaluationSeconds)
        (self.finalLoss, self.metrics, self.divergedAtStep) = (finalLoss, metrics, divergedAtStep)
    }

    // JSON has no NaN: a diverged run's final loss is written as null.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(study: try c.decode(String.self, forKey: .study), model: try c.decode(String.self, forKey: .model),
                  seed: try c.decode(UInt64.self, forKey: .seed), scale: try c.decode(String.self, forKey: .scale),
                  settings: try c.decode(String.self, forKey: .settings), parameters: try c.decode(Int.self, forKey: .parameters),
                  configuration: try c.decode(String.self, forKey: .configuration),
                  trainingSeconds: try c.decode(Double.self, forKey: .trainingSeconds),
                  evaluationSeconds: try c.decode(Double.self, forKey: .evaluationSeconds),
                  finalLoss: try c.decodeIfPresent(Double.self, forKey: .finalLoss) ?? .nan,
                  metrics: try c.decode([String: Double].self, forKey: .metrics),
                  divergedAtStep: try c.decodeIfPresent(Int.self, forKey: .divergedAtStep))
        nonFiniteMetrics = try c.decodeIfPresent([String].self, forKey: .nonFiniteMetrics) ?? []
        finishedAt = try c.decodeIfPresent(Double.self, forKey: .finishedAt)
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(study, forKey: .study)
        try c.encode(model, forKey: .model)
        try c.encode(seed, forKey: .seed)
        try c.encode(scale, forKey: .scale)
        try c.encode(settings, forKey: .settings)
        try c.encode(parameters, forKey: .parameters)
        try c.encode(configuration, forKey: .configuration)
        try c.encode(trainingSeconds, forKey: .trainingSeconds)
        try c.encode(evaluationSeconds, forKey: .evaluationSeconds)
        try c.encode(finalLoss.isFinite ? finalLoss : nil, forKey: .finalLoss)
        try c.encode(metrics.filter { $0.value.isFinite }, forKey: .metrics)
        try c.encodeIfPresent(divergedAtStep, forKey: .divergedAtStep)
        if !nonFiniteMetrics.isEmpty { try c.encode(nonFiniteMetrics, forKey: .nonFiniteMetrics) }
        try c.encodeIfPresent(finishedAt, forKey: .finishedAt)
    }
}

/// The results of a reproduction so far, kept in `results.json` after every cell (written whole, then renamed) so an
/// interrupted run continues where it stopped: a cell already there with the same model and scale settings is kept.
///
/// ```swift
/// var results = try ReproductionResults(loadingFrom: folder)
/// if results.done(cell, scale: .quick) == nil { results.cells[cell.key] = try cell.run(scale: .quick); try results.save(to: folder) }
/// ```
public struct ReproductionResults: Codable, Sendable {
    public var cells: [String: ReproductionResult] = [:]

    public static func url(in folder: URL) -> URL { folder.appendingPathComponent("results.json") }

    public init() {}

    /// The results in `folder`, none when it has no `results.json`.
    public init(loadingFrom folder: URL) throws {
        let url = Self.url(in: folder)
        guard FileManager.default.fileExists(atPath: url.path) else { return }
        do {
            self = try JSONDecoder().decode(ReproductionResults.self, from: Data(contentsOf: url))
        } catch {
            throw ReproductionError.unreadableResults(path: url.path, reason: (error as NSError).localizedDescription)
        }
    }

    /// The finished result of `cell` at `scale`, if it is there and was measured with the same model, settings and text.
    public func done(_ cell: ReproductionCell, scale: ReproductionScale) -> ReproductionResult? {
        guard let result = cells[cell.key], result.settings == cell.settings(scale),
              result.configuration == cell.modelJSON else { return nil }
        return result
    }

    /// The keys of results at `scale` that no study has a cell for with this data (`corpus`, `domains`) and these seeds:
    /// a report written now leaves them out, though they stay here (their text, series or DNA is missing, for example).
    public func keysWithoutCells(scale: ReproductionScale, corpus: ReproductionCorpus?, domains: ReproductionDomainData) -> [String] {
        let known = Set(ReproductionStudy.all.flatMap { $0.cells(at: scale, corpus: corpus, domains: domains) }.map(\.key))
        return cells.filter { $0.value.scale == scale.name && !known.contains($0.key) }.map(\.key).sorted()
    }

    /// Seconds the cells of `scale` took, summed (`model`), and the wall time they took (`wall`): the union of the
    /// intervals in which they ran, so models trained side by side count once. A cell without an end time ran alone
    /// (before side-by-side runs existed) and counts whole.
    public func seconds(scale: String) -> (model: Double, wall: Double) {
        let mine = cells.values.filter { $0.scale == scale }
        let model = mine.map { $0.trainingSeconds + $0.evaluationSeconds }.reduce(0, +)
        var wall = mine.filter { $0.finishedAt == nil }.map { $0.trainingSeconds + $0.evaluationSeconds }.reduce(0, +)
        var reach = -Double.infinity  // the end of the intervals merged so far
        let intervals = mine.compactMap { r in r.finishedAt.map { ($0 - r.trainingSeconds - r.evaluationSeconds, $0) } }
        for (start, end) in intervals.sorted(by: { $0.0 < $1.0 }) where end > reach {
            wall += end - max(start, reach)
            reach = end
        }
        return (model, wall)
    }

    public func save(to folder: URL) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        do {
            try encoder.encode(self).write(to: Self.url(in: folder), options: .atomic)
        } catch {
            throw ReproductionError.unwritable(path: Self.url(in: folder).path, reason: (error as NSError).localizedDescription)
        }
    }
}

/// Why a reproduction cannot go on.
public enum ReproductionError: Error, CustomStringConvertible, Equatable {
    case unreadableResults(path: String, reason: String)
    case unwritable(path: String, reason: String)
    case unknownStudy(String)
    case unreadableCorpus(path: String, reason: String)

    public var description: String {
        switch self {
        case let .unreadableResults(path, reason):
            return "\(path) cannot be read (\(reason)); it is not a results file of titans reproduce — move it away or choose another --output"
        case let .unwritable(path, reason): return "cannot write \(path): \(reason)"
        case let .unreadableCorpus(path, reason):
            return "the text for the language studies, \(path), cannot be used: \(reason). Fetch the default with `bash scripts/fetch-corpus`, "
                + "pass another file with --corpus FILE, or leave the language, depth and ablations studies out with --only"
        case .unknownStudy(let name):
            return "no study \(name); the studies are \(ReproductionStudy.all.map(\.name).joined(separator: ", "))"
        }
    }
}
