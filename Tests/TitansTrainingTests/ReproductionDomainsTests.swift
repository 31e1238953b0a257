import Foundation
import Testing
import TitansEval
@testable import TitansTraining

/// The forecasting and DNA studies of `titans reproduce` (the paper's Tables 3 and 4), on small generated data.
struct ReproductionDomainsTests {
    /// The tiny scale with domain studies to match: horizons 8 and 16 fit the generated series, 400 does not.
    static let tiny: ReproductionScale = {
        var scale = ReproductionTests.tiny
        scale.domains = DomainScale(width: 16, layers: 1, learningRate: 3e-3, lookback: 16, patchLength: 4, horizons: [8, 16, 400],
                                    forecastSteps: 3, forecastBatchSize: 4, maximumTestSeries: 40, classificationSteps: 3,
                                    classificationBatchSize: 4)
        return scale
    }()

    /// `text` written to a new file in `folder`.
    @discardableResult
    static func write(_ text: String, _ name: String, in folder: URL) throws -> URL {
        let url = folder.appendingPathComponent(name)
        try Data(text.utf8).write(to: url)
        return url
    }

    /// A two-column series of 600 steps (a sine and a slower wave with a trend), as CSV.
    static func seriesText(phase: Double = 0) -> String {
        "a,b\n" + (0..<600).map { t in
            String(format: "%.4f,%.4f", sin(Double(t) / 5 + phase), cos(Double(t) / 7) + Double(t) / 1000)
        }.joined(separator: "\n") + "\n"
    }

    /// Data for both studies: the series, two classes of 24-base sequences (one rich in A and C, one in G and T), and
    /// 48 KB of random DNA for the language model.
    static func domains(in folder: URL) throws -> ReproductionDomainData {
        var generator = RandomGenerator(seed: 7)
        func records(_ letters: String, count: Int) -> String {
            let alphabet = Array(letters)
            return (0..<count).map { i in ">s\(i)\n" + String((0..<24).map { _ in alphabet[generator.uniformIndex(alphabet.count)] }) }
                .joined(separator: "\n") + "\n"
        }
        let x = try write(records("AACCG", count: 30), "x.fa", in: folder), y = try write(records("GGTTA", count: 30), "y.fa", in: folder)
        let genome = try write(String((0..<48_000).map { _ in Array("ACGT")[generator.uniformIndex(4)] }), "genome.txt", in: folder)
        return ReproductionDomainData(
            series: [try ReproductionSeries(name: "waves", contentsOf: try write(seriesText(), "waves.csv", in: folder))],
            sequences: [try ReproductionSequences(name: "toy", classes: [("x", x, nil), ("y", y, nil)])],
            genome: try ReproductionCorpus(contentsOf: genome))
    }

    /// Every model at every seed on every series and horizon it holds (a horizon too long for the series is left out);
    /// DLinear has no blocks; the DNA study classifies each task and trains the language study's model on the genome.
    @Test func cellsCoverEveryDatasetHorizonAndModel() throws {
        let folder = try ReproductionTests.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let data = try Self.domains(in: folder)
        let forecasting = ReproductionStudy.forecasting.cells(at: Self.tiny, corpus: nil, domains: data)
        #expect(forecasting.count == ReproductionStudy.forecasting.models.count * 2 * 2)
        #expect(Set(forecasting.map(\.study)) == ["forecast-waves@8", "forecast-waves@16"])
        #expect(Set(forecasting.map(\.key)).count == forecasting.count)
        for cell in forecasting {
            guard case .forecast(_, let configuration) = cell.workload else { Issue.record("\(cell.key) is not a forecast"); continue }
            #expect(configuration.channels == 2 && configuration.lookback == 16 && configuration.patchLength == 4)
            #expect((cell.modelName == "linear") == (configuration.backbone == nil) && configuration.backbone == cell.configuration)
            #expect(configuration.backbone.map { $0.vocabularySize == 1 && $0.width == 16 && $0.layers == 1 } ?? true)
        }
        let dna = ReproductionStudy.dna.cells(at: Self.tiny, corpus: nil, domains: data)
        #expect(dna.count == ReproductionStudy.dna.models.count * 2 * 2)
        for cell in dna where cell.study == "dna-language" {
            #expect(cell.configuration == Self.tiny.model(cell.modelName) && cell.trainingLength == ReproductionStudy.languageLength)
        }
        #expect(dna.filter { $0.study == "dna-toy" }.allSatisfy { $0.trainingLength == 24 })
        #expect(ReproductionStudy.forecasting.cells(at: Self.tiny, corpus: nil).isEmpty && ReproductionStudy.dna.cells(at: .full, corpus: nil).isEmpty)
    }

    /// A forecasting cell trains, saves its model and scores it: the scores are those of the saved model read back and
    /// scored again, on every n-th test window as the scale's limit asks; training is deterministic. A classification
    /// cell gives the accuracy on every held-out sequence.
    @Test func cellsTrainSaveAndScore() throws {
        let folder = try ReproductionTests.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let data = try Self.domains(in: folder)
        let models = ReproductionModels(folder: folder)
        let cells = ReproductionStudy.forecasting.cells(at: Self.tiny, corpus: nil, domains: data).filter { $0.seed == 0 && $0.study == "forecast-waves@8" }
        for cell in cells where ["linear", "lmm"].contains(cell.modelName) {
            var steps: [Int] = []
            let result = try cell.run(scale: Self.tiny, models: models) { step, total in
                steps.append(step)
                #expect(total == Self.tiny.domains.forecastSteps)
            }
            #expect(steps == [1, 2, 3] && result.finalLoss.isFinite && result.parameters > 0)
            guard case .forecast(let series, let configuration) = cell.workload else { continue }
            let windows = try SeriesWindows(series.table, lookback: 16, horizon: 8)
            let stride = Self.tiny.domains.testStride(windows: windows.starts(.test).count, channels: 2)
            #expect(stride == (windows.starts(.test).count * 2 + 39) / 40 && stride > 1)
            var generator = RandomGenerator(seed: 99)
            let saved = ForecastModel(configuration, generator: &generator)
            try Checkpoint.load(from: models.url(of: cell)).restore(into: saved.namedParameters(), optimizer: nil,
                                                                    expectedConfig: saved.configurationJSON)
            let score = ForecastEvaluation.score(of: saved, on: windows, split: .test, stride: stride)
            #expect(result.metrics == ["mse": score.meanSquaredError, "mae": score.meanAbsoluteError, "test-stride": Double(stride),
                                       "test-windows": Double(score.windows)])
            #expect(try cell.run(scale: Self.tiny).metrics == result.metrics)
        }
        let classification = try #require(ReproductionStudy.dna.cells(at: Self.tiny, corpus: nil, domains: data).first { $0.study == "dna-toy" })
        let result = try classification.run(scale: Self.tiny)
        #expect(result.metrics["test-sequences"] == Double(data.sequences[0].data.test.count) && data.sequences[0].data.test.count == 6)
        #expect((0...1).contains(result.metrics["accuracy"] ?? -1) && result.parameters > 0)
    }

    /// The domain scale is kept out of the scale's JSON, so the other studies' results stay valid; a domain cell is
    /// reused only with the same domain scale and the same data.
    @Test func settingsTieResultsToTheirDataAndScale() throws {
        let folder = try ReproductionTests.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let data = try Self.domains(in: folder)
        #expect(!sortedJSONText(ReproductionScale.full).contains("forecastSteps"))
        var other = Self.tiny
        other.domains.forecastSteps += 1
        let needles = try #require(ReproductionStudy.needles.cells(at: Self.tiny, corpus: nil).first)
        #expect(needles.settings(Self.tiny) == needles.settings(other))
        let cell = try #require(ReproductionStudy.forecasting.cells(at: Self.tiny, corpus: nil, domains: data).first)
        var results = ReproductionResults()
        results.cells[cell.key] = ReproductionTests.result(cell, 0.3, scale: Self.tiny)
        #expect(results.done(cell, scale: Self.tiny) != nil && results.done(cell, scale: other) == nil)
        var changed = data
        changed.series = [try ReproductionSeries(name: "waves", contentsOf: try Self.write(Self.seriesText(phase: 1), "w2.csv", in: folder))]
        let moved = try #require(ReproductionStudy.forecasting.cells(at: Self.tiny, corpus: nil, domains: changed).first { $0.key == cell.key })
        #expect(results.done(moved, scale: Self.tiny) == nil)
    }

    /// The forecasting tables (a row per horizon and the mean over horizons, the best in bold), the DNA table, and the
    /// two claims, on results made up for the purpose.
    @Test func tablesAndClaims() throws {
        let folder = try ReproductionTests.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let data = try Self.domains(in: folder)
        var scale = Self.tiny
        scale.seeds = [0]
        let error: [String: Double] = ["linear": 0.40, "lmm": 0.30, "sliding-window": 0.35]
        var results = ReproductionResults()
        for cell in ReproductionStudy.forecasting.cells(at: scale, corpus: nil, domains: data) where error[cell.modelName] != nil {
            let horizon = cell.study.hasSuffix("@16") ? 0.1 : 0
            results.cells[cell.key] = ReproductionTests.result(cell, (error[cell.modelName] ?? 0) + horizon, scale: scale)
        }
        let accuracy: [String: Double] = ["lmm": 0.9, "transformer": 0.7]
        for cell in ReproductionStudy.dna.cells(at: scale, corpus: nil, domains: data) where accuracy[cell.modelName] != nil {
            results.cells[cell.key] = ReproductionTests.result(cell, accuracy[cell.modelName] ?? 0, scale: scale)
        }
        let genomeKey = "dna-language/lmm/seed0", far = ReproductionCell.metric("bpb", 4096)
        results.cells[genomeKey]?.metrics[far] = nil
        results.cells[genomeKey]?.nonFiniteMetrics = [far]
        let forecast = ReproductionReport(study: .forecasting, scale: scale, results: results, corpus: nil, domains: data)
        let rows = ReproductionTests.rows(forecast.markdown(chartFile: "x.svg"))
        #expect(rows.contains(["waves", "8", "0.400", "**0.300**", "0.350", "1 in 2: 7"]))
        #expect(rows.contains(["waves", "mean", "0.450", "**0.350**", "0.400", ""]))
        #expect(forecast.chart().series.map(\.name) == ["DLinear", "Titans (LMM)", "sliding window"])
        let dna = ReproductionTests.rows(ReproductionReport(study: .dna, scale: scale, results: results, corpus: nil, domains: data)
            .markdown(chartFile: "x.svg"))
        #expect(dna.contains { $0.prefix(6) == ["Titans (LMM)", "1234 / 1234", "90.0", "0.900", "0.900", "not finite (seed 0)"] })

        func verdicts(_ results: ReproductionResults) -> [ReproductionClaims.Verdict] {
            ReproductionClaims.judged(results, scale: scale, corpus: nil, domains: data).suffix(2).map(\.verdict)
        }
        #expect(verdicts(results) == [.agrees, .agrees])
        for (key, result) in results.cells where result.model == "Titans (LMM)" {
            results.cells[key]?.metrics = result.metrics.mapValues { _ in 0.5 }
        }
        #expect(verdicts(results) == [.disagrees, .disagrees])
        #expect(verdicts(ReproductionResults()) == [.cannotTell, .cannotTell])
    }

    /// The standard datasets that have their files are read; the others are named as missing; a file that is there but
    /// damaged is an error. A test stride is the least that keeps the scored series within the limit.
    @Test func standardDataAndTestStride() throws {
        let folder = try ReproductionTests.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        try Self.write(Self.seriesText(), "electricity.csv", in: folder)
        let (data, missing) = try ReproductionDomainData.standard(seriesFolder: folder, dnaFolder: folder.appendingPathComponent("dna"))
        #expect(data.series.map(\.name) == ["electricity"] && data.sequences.isEmpty && data.genome == nil)
        #expect(missing.map { String($0.prefix { $0 != " " }) } == ["loads", "pedestrians", "weather", "binding", "splice", "promoters"])
        try Self.write("a,b\n1,2\n3\n", "loads.csv", in: folder)
        #expect(throws: (any Error).self) { try ReproductionDomainData.standard(seriesFolder: folder, dnaFolder: folder) }

        var domains = DomainScale.full
        domains.maximumTestSeries = 120
        #expect(domains.testStride(windows: 100, channels: 3) == 3 && domains.testStride(windows: 10, channels: 2) == 1)
        #expect(domains.testStride(windows: 121, channels: 1) == 2)
    }
}
