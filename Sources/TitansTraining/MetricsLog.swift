import Foundation
import TitansEval

/// One line of a run's `metrics.jsonl`: a training step's figures, or a validation's.
///
/// ```swift
/// let record = MetricsRecord(step: 10, validationLoss: 1.6, bitsPerByte: 2.3)
/// print(record.namedValues)   // [("validation_loss", 1.6), ("bits_per_byte", 2.3)]
/// ```
public struct MetricsRecord: Codable, Equatable, Sendable {
    public var step: Int
    public var loss: Double?
    public var learningRate: Double?
    public var gradientNorm: Double?
    public var tokensPerSecond: Double?
    public var validationLoss: Double?
    public var bitsPerByte: Double?

    public init(step: Int, loss: Double? = nil, learningRate: Double? = nil, gradientNorm: Double? = nil,
                tokensPerSecond: Double? = nil, validationLoss: Double? = nil, bitsPerByte: Double? = nil) {
        self.step = step
        self.loss = loss
        self.learningRate = learningRate
        self.gradientNorm = gradientNorm
        self.tokensPerSecond = tokensPerSecond
        self.validationLoss = validationLoss
        self.bitsPerByte = bitsPerByte
    }

    /// The figures the record holds, named as in the JSON lines (TensorBoard's tags).
    public var namedValues: [(tag: String, value: Double)] {
        let fields: [(CodingKeys, Double?)] = [(.loss, loss), (.learningRate, learningRate), (.gradientNorm, gradientNorm),
                                               (.tokensPerSecond, tokensPerSecond), (.validationLoss, validationLoss),
                                               (.bitsPerByte, bitsPerByte)]
        return fields.compactMap { key, value in value.map { (key.rawValue, $0) } }
    }

    enum CodingKeys: String, CodingKey {
        case step, loss
        case learningRate = "learning_rate", gradientNorm = "gradient_norm", tokensPerSecond = "tokens_per_second"
        case validationLoss = "validation_loss", bitsPerByte = "bits_per_byte"
    }
}

/// A JSON-lines file of ``MetricsRecord``s, appended one line per record as training goes.
///
/// ```swift
/// let log = MetricsLog(url: URL(fileURLWithPath: "runs/mag/metrics.jsonl"))
/// try log.append(MetricsRecord(step: 1, loss: 5.5))
/// let losses = try log.read().compactMap(\.loss)
/// ```
public struct MetricsLog: Sendable {
    public let url: URL

    public init(url: URL) { self.url = url }

    /// Appends `record` as one line (creating the file if needed).
    public func append(_ record: MetricsRecord) throws {
        var line = try sortedJSON(record)
        line.append(UInt8(ascii: "\n"))
        if !FileManager.default.fileExists(atPath: url.path) {
            try Data().write(to: url)
        }
        let handle = try FileHandle(forWritingTo: url)
        defer { try? handle.close() }
        try handle.seekToEnd()
        try handle.write(contentsOf: line)
    }

    /// The records in the file, oldest first; lines that are not records (e.g. one cut short by a crash) are skipped.
    public func read() throws -> [MetricsRecord] {
        guard FileManager.default.fileExists(atPath: url.path) else { return [] }
        let decoder = JSONDecoder()
        return try Data(contentsOf: url).split(separator: UInt8(ascii: "\n")).compactMap {
            try? decoder.decode(MetricsRecord.self, from: Data($0))
        }
    }

    /// Keeps only the records up to `step` (a resumed run repeats the steps after its checkpoint), rewriting the file
    /// atomically.
    public func keep(upTo step: Int) throws {
        guard FileManager.default.fileExists(atPath: url.path) else { return }
        let lines = try read().filter { $0.step <= step }.map { String(decoding: try sortedJSON($0), as: UTF8.self) + "\n" }
        try Data(lines.joined().utf8).write(to: url, options: .atomic)
    }

    /// Training loss (a running mean over `smoothing` steps) and validation loss by step.
    public func lossCurve(smoothing: Int = 20) throws -> LineChart {
        let records = try read()
        var mean = RunningMean(window: smoothing)
        let smoothed = records.compactMap { r in r.loss.map { (x: Double(r.step), y: mean.add($0)) } }
        let validation = records.compactMap { r in r.validationLoss.map { (x: Double(r.step), y: $0) } }
        var series = [LineChart.Series(name: "training loss (mean of \(smoothing) steps)", points: smoothed, markers: false)]
        if !validation.isEmpty { series.append(.init(name: "validation loss", points: validation)) }
        return LineChart(title: "Loss", xLabel: "step", yLabel: "loss (nats per byte)", series: series)
    }
}
