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
    /// Mean training loss (nats per answer byte) over the last 20 steps.
    public var finalLoss: Double
    /// By name (`s-niah-pk@256`: accuracy of that task at that length).
    public var metrics: [String: Double]
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

    /// The finished result of `cell` at `scale`, if it is there and was measured with the same model.
    public func done(_ cell: ReproductionCell, scale: ReproductionScale) -> ReproductionResult? {
        guard let result = cells[cell.key], result.settings == sortedJSONText(scale),
              result.configuration == sortedJSONText(cell.configuration) else { return nil }
        return result
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

    public var description: String {
        switch self {
        case let .unreadableResults(path, reason):
            return "\(path) cannot be read (\(reason)); it is not a results file of titans reproduce — move it away or choose another --output"
        case let .unwritable(path, reason): return "cannot write \(path): \(reason)"
        case .unknownStudy(let name):
            return "no study \(name); the studies are \(ReproductionStudy.all.map(\.name).joined(separator: ", "))"
        }
    }
}
