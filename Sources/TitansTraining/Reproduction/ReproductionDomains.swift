import Foundation
import TitansEval

/// How large the forecasting and DNA studies (the paper's Tables 3 and 4) train: smaller models than the language
/// studies' (forecasting models read a dozen patches, a DNA classifier 60–200 bases), their own steps and batches.
/// Kept out of ``ReproductionScale``'s JSON, so results of the other studies stay valid; a domain cell's settings are
/// this scale's JSON and its data's fingerprint.
public struct DomainScale: Codable, Sendable, Equatable {
    /// Width and blocks of every backbone (feed-forward layers sized to MAC's parameter count, as in the other studies).
    public var width: Int
    public var layers: Int
    public var learningRate: Double
    /// Forecasting: steps read, steps per patch (a backbone's token), the horizons (one model each).
    public var lookback: Int
    public var patchLength: Int
    public var horizons: [Int]
    /// Optimiser steps and one-column windows per step of each forecaster.
    public var forecastSteps: Int
    public var forecastBatchSize: Int
    /// The most series (test windows × columns) a forecaster is scored on: a series with more is scored on every n-th
    /// test window, n the least that fits (stated in the report). Every window of a small series is scored, as the
    /// literature does.
    public var maximumTestSeries: Int
    /// Optimiser steps and sequences per step of each DNA classifier.
    public var classificationSteps: Int
    public var classificationBatchSize: Int

    public static let quick = DomainScale(width: 32, layers: 1, learningRate: 1e-3, lookback: 96, patchLength: 8, horizons: [96],
                                          forecastSteps: 60, forecastBatchSize: 16, maximumTestSeries: 4000,
                                          classificationSteps: 60, classificationBatchSize: 16)
    public static let full = DomainScale(width: 64, layers: 2, learningRate: 1e-3, lookback: 96, patchLength: 8,
                                         horizons: [96, 192, 336, 720], forecastSteps: 1000, forecastBatchSize: 32,
                                         maximumTestSeries: 50_000, classificationSteps: 500, classificationBatchSize: 32)

    /// Every `n`-th test window is scored, for `windows` windows of `channels` columns.
    public func testStride(windows: Int, channels: Int) -> Int {
        max(1, (windows * channels + maximumTestSeries - 1) / max(1, maximumTestSeries))
    }
}

/// A series of the forecasting study, read once: its name in tables and its file's fingerprint.
public struct ReproductionSeries: Sendable {
    public let name: String
    public let table: SeriesTable
    public let fingerprint: String

    public init(name: String, contentsOf url: URL) throws {
        self.name = name
        table = try SeriesTable.read(url)
        fingerprint = try fileFingerprint(url)
    }
}

/// Labelled DNA of the DNA study: one FASTA file per class (and per class a test file, or a tenth held out with seed
/// 0: the same test sequences for every model and seed).
public struct ReproductionSequences: Sendable {
    public let name: String
    public let data: LabelledSequences
    public let fingerprint: String

    /// `classes`: each class's name, its FASTA file, and its test file if it has one (all or none).
    public init(name: String, classes: [(name: String, file: URL, test: URL?)]) throws {
        self.name = name
        let training = try classes.map { ($0.name, try FastaFile.read($0.file)) }
        let tests = classes.compactMap { c in c.test.map { (c.name, $0) } }
        let test = tests.count == classes.count ? try tests.map { ($0.0, try FastaFile.read($0.1)) } : nil
        data = try LabelledSequences(classes: training, test: test, seed: 0)
        fingerprint = try (classes.map(\.file) + tests.map(\.1)).map(fileFingerprint).joined(separator: "; ")
    }
}

/// The real data of the forecasting and DNA studies: what `bash scripts/fetch-series` and `bash scripts/fetch-dna`
/// write, or the caller's own.
public struct ReproductionDomainData: Sendable {
    public var series: [ReproductionSeries]
    public var sequences: [ReproductionSequences]
    /// DNA for the language model (bits per nucleotide): the promoter regions as plain text.
    public var genome: ReproductionCorpus?

    public init(series: [ReproductionSeries] = [], sequences: [ReproductionSequences] = [], genome: ReproductionCorpus? = nil) {
        (self.series, self.sequences, self.genome) = (series, sequences, genome)
    }

    /// The files of the fetch scripts that exist in `seriesFolder` and `dnaFolder` (a dataset missing a file is left
    /// out, and named in `missing`); a file that exists but cannot be read is an error.
    public static func standard(seriesFolder: URL, dnaFolder: URL) throws -> (data: ReproductionDomainData, missing: [String]) {
        var data = ReproductionDomainData(), missing: [String] = []
        func exists(_ urls: [URL], _ name: String) -> Bool {
            let absent = urls.filter { !FileManager.default.fileExists(atPath: $0.path) }
            if !absent.isEmpty { missing.append("\(name) (\(absent.map(\.path).joined(separator: ", ")))") }
            return absent.isEmpty
        }
        for name in ["electricity", "loads", "pedestrians", "weather"] {
            let url = seriesFolder.appendingPathComponent("\(name).csv")
            if exists([url], name) { data.series.append(try ReproductionSeries(name: name, contentsOf: url)) }
        }
        func fasta(_ name: String) -> URL { dnaFolder.appendingPathComponent("\(name).fa") }
        let binding = ["oct4", "mafk"].map { (name: $0, file: fasta("binding-\($0)"), test: Optional(fasta("binding-\($0)-test"))) }
        if exists(binding.flatMap { [$0.file, $0.test ?? $0.file] }, "binding") {
            data.sequences.append(try ReproductionSequences(name: "binding", classes: binding))
        }
        let splice = ["ei", "ie", "n"].map { (name: $0, file: fasta("splice-\($0)"), test: URL?.none) }
        if exists(splice.map(\.file), "splice") { data.sequences.append(try ReproductionSequences(name: "splice", classes: splice)) }
        let genome = dnaFolder.appendingPathComponent("promoters.txt")
        if exists([genome], "promoters") { data.genome = try ReproductionCorpus(contentsOf: genome) }
        return (data, missing)
    }
}

/// A file's name, size and FNV-1a hash: a result is reused only with the same data.
func fileFingerprint(_ url: URL) throws -> String {
    let bytes = try Data(contentsOf: url)
    return fingerprint(name: url.lastPathComponent, bytes: bytes)
}

/// `name`, the byte count and the FNV-1a hash of `bytes`.
func fingerprint(name: String, bytes: some Collection<UInt8>) -> String {
    let hash = bytes.reduce(UInt64(0xCBF2_9CE4_8422_2325)) { ($0 ^ UInt64($1)) &* 0x100_0000_01B3 }
    return "\(name), \(bytes.count) bytes, FNV-1a \(String(hash, radix: 16))"
}

extension ReproductionScale {
    /// The backbone named as on the command line at the domain studies' width and blocks, matched in parameters as
    /// ``model(_:)`` matches; `nil` for the linear forecaster (which has none) and unknown names.
    func domainBackbone(_ name: String) -> ModelConfiguration? {
        var scale = self
        (scale.width, scale.layers) = (domains.width, domains.layers)
        return scale.model(name)
    }
}
