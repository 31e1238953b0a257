import Foundation
import Testing
@testable import TitansTraining

struct TrainingRunTests {
    static func folder() -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("titans-run-\(UInt64.random(in: 0...UInt64.max))")
    }

    static func trainer(source: (any BatchSource<TrainingBatch>)? = nil, seed: UInt64 = 1) throws -> Trainer<LanguageModel> {
        Trainer(model: TrainerTests.model(seed: seed), source: try source ?? TrainerTests.dataset(),
                configuration: TrainerTests.configuration())
    }

    /// A run writes a line per step and per validation, a checkpoint at the end and the loss curve.
    @Test func writesMetricsCheckpointAndCurve() throws {
        let folder = Self.folder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let run = try TrainingRun(trainer: try Self.trainer(), folder: folder, checkpointInterval: 7)
        var events: [TrainingRun<LanguageModel>.Event] = []
        try run.run(onStep: { events.append($0) })
        let records = try run.metrics.read()
        #expect(records.filter { $0.loss != nil }.map(\.step) == Array(1...20))
        let validations = records.filter { $0.validationLoss != nil }
        #expect(validations.map(\.step) == [5, 10, 15, 20])
        for v in validations { #expect(Swift.abs(v.bitsPerByte! - v.validationLoss! / log(2.0)) < 1e-12) }
        #expect(events.filter(\.checkpointed).map(\.report.step) == [7, 14, 20])
        #expect(try Checkpoint.load(from: run.checkpointURL).step == 20)
        let svg = try String(contentsOf: run.lossCurveURL, encoding: .utf8)
        #expect(svg.hasPrefix("<svg") || svg.hasPrefix("<?xml"))
        #expect(svg.contains("validation loss"))
    }

    /// 20 steps straight equal 10 steps, a stop, and a resumed run from the folder's checkpoint; the metrics then hold
    /// each step once.
    @Test func resumedRunContinuesExactly() throws {
        let straightFolder = Self.folder(), folder = Self.folder()
        defer { for f in [straightFolder, folder] { try? FileManager.default.removeItem(at: f) } }
        let straight = try TrainingRun(trainer: try Self.trainer(), folder: straightFolder, checkpointInterval: 5)
        try straight.run()

        let first = try TrainingRun(trainer: try Self.trainer(), folder: folder, checkpointInterval: 5,
                                    metadata: ["data": "somewhere"])
        try first.run(until: 12)  // checkpoint at 10; steps 11 and 12 are lost with the "crash"
        let checkpoint = try Checkpoint.load(from: first.checkpointURL)
        #expect(checkpoint.step == 10 && checkpoint.metadata["data"] == "somewhere")
        let settings = try checkpoint.trainingSettings(file: "checkpoint")
        #expect(settings.training == TrainerTests.configuration() && settings.model == first.trainer.model.configuration)

        let trainer = try Self.trainer(seed: 77)
        try trainer.resume(from: checkpoint)
        let second = try TrainingRun(trainer: trainer, folder: folder, resumedFrom: first.checkpointURL, checkpointInterval: 5,
                                     metadata: checkpoint.metadata)
        #expect(try second.metrics.read().map(\.step).max() == 10)
        try second.run()
        for ((name, a), (_, b)) in zip(straight.trainer.model.namedParameters(), second.trainer.model.namedParameters()) {
            #expect(a.toArray() == b.toArray(), "\(name) differs after resuming")
        }
        let losses = try second.metrics.read().filter { $0.loss != nil }
        #expect(losses.map(\.step) == Array(1...20))
        #expect(losses.map(\.loss) == (try straight.metrics.read()).filter { $0.loss != nil }.map(\.loss))
        #expect(try Checkpoint.load(from: second.checkpointURL).metadata["data"] == "somewhere")
    }

    /// A stop requested during step 13 (an interrupted run) finishes that step, checkpoints it although the interval
    /// is 5, and returns `.stopped`; resuming from that checkpoint ends where 20 straight steps end, bit for bit.
    @Test func aStopRequestCheckpointsTheStepAndResumesExactly() throws {
        let straightFolder = Self.folder(), folder = Self.folder()
        defer { for f in [straightFolder, folder] { try? FileManager.default.removeItem(at: f) } }
        let straight = try TrainingRun(trainer: try Self.trainer(), folder: straightFolder, checkpointInterval: 5)
        #expect(try straight.run() == .reachedStep)

        let first = try TrainingRun(trainer: try Self.trainer(), folder: folder, checkpointInterval: 5)
        var checkpointed: [Int] = []
        let outcome = try first.run(stopRequested: { first.trainer.step == 13 }) { if $0.checkpointed { checkpointed.append($0.report.step) } }
        #expect(outcome == .stopped && first.trainer.step == 13 && checkpointed == [5, 10, 13])
        let checkpoint = try Checkpoint.load(from: first.checkpointURL)
        #expect(checkpoint.step == 13)

        let trainer = try Self.trainer(seed: 77)
        try trainer.resume(from: checkpoint)
        let second = try TrainingRun(trainer: trainer, folder: folder, resumedFrom: first.checkpointURL, checkpointInterval: 5)
        #expect(try second.run() == .reachedStep)
        for ((name, a), (_, b)) in zip(straight.trainer.model.namedParameters(), second.trainer.model.namedParameters()) {
            #expect(a.toArray() == b.toArray(), "\(name) differs after the stop")
        }
        #expect(try second.metrics.read().filter { $0.loss != nil }.map(\.step) == Array(1...20))
    }

    /// A configuration that claims a model larger than the file's parameters (damaged, or hostile) is refused before
    /// anything is built from it: a width of 200,000 once made `titans generate` try to allocate 160 GB and abort.
    @Test func aConfigurationLargerThanTheFileIsRefused() throws {
        let trainer = try Self.trainer()
        var checkpoint = trainer.checkpoint(metadata: [:])
        #expect(try checkpoint.modelConfiguration(file: "ok") == trainer.model.configuration)
        var config = trainer.model.configuration
        config.resize(width: 200_000, heads: 2)
        checkpoint.config = String(decoding: try JSONEncoder().encode(config), as: UTF8.self)
        #expect(throws: RunError.self) { try checkpoint.modelConfiguration(file: "hostile") }
        do {
            _ = try checkpoint.modelConfiguration(file: "hostile")
        } catch let error as RunError {
            guard case .configurationLargerThanFile(file: "hostile", _, held: trainer.model.parameterCount) = error else {
                Issue.record("unexpected \(error)")
                return
            }
            #expect(error.description.contains("earlier checkpoint"))
        }
    }

    /// A checkpoint write cut short by a killed process leaves its temporary file; the next run in the folder removes
    /// it and nothing else.
    @Test func unfinishedCheckpointWritesAreRemoved() throws {
        let folder = Self.folder()
        defer { try? FileManager.default.removeItem(at: folder) }
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let leftover = folder.appendingPathComponent(".checkpoint.safetensors.5A1B.tmp")
        let kept = folder.appendingPathComponent("notes.txt")
        try Data("partial".utf8).write(to: leftover)
        try Data("mine".utf8).write(to: kept)
        _ = try TrainingRun(trainer: try Self.trainer(), folder: folder, checkpointInterval: 5)
        #expect(!FileManager.default.fileExists(atPath: leftover.path))
        #expect(FileManager.default.fileExists(atPath: kept.path))
    }

    /// A folder holding a run is not overwritten by a new one (nor by resuming another run's checkpoint into it).
    @Test func refusesAFolderHoldingARun() throws {
        let folder = Self.folder(), other = Self.folder()
        defer { for f in [folder, other] { try? FileManager.default.removeItem(at: f) } }
        let run = try TrainingRun(trainer: try Self.trainer(), folder: folder, checkpointInterval: 5)
        try run.run(until: 5)
        let before = try Data(contentsOf: run.checkpointURL)
        #expect(throws: RunError.folderHoldsARun(folder: folder.path)) {
            try TrainingRun(trainer: try Self.trainer(), folder: folder, checkpointInterval: 5)
        }
        let elsewhere = try TrainingRun(trainer: try Self.trainer(), folder: other, checkpointInterval: 5)
        try elsewhere.run(until: 5)
        #expect(throws: RunError.self) {
            try TrainingRun(trainer: try Self.trainer(), folder: folder, resumedFrom: elsewhere.checkpointURL,
                            checkpointInterval: 5)
        }
        #expect(try Data(contentsOf: run.checkpointURL) == before)
        let file = other.appendingPathComponent("metrics.jsonl")
        #expect(throws: RunError.notAFolder(path: file.path)) {
            try TrainingRun(trainer: try Self.trainer(), folder: file, checkpointInterval: 5)
        }
    }

    /// A loss that turns NaN mid-run stops it; the checkpoint before it stays, and the curve is still drawn.
    @Test func nonFiniteLossKeepsTheLastCheckpoint() throws {
        final class Poisoned: BatchSource {
            let data: ByteDataset
            var batches = 0
            init(_ data: ByteDataset) { self.data = data }
            func trainingBatch(size: Int, length: Int, generator: inout RandomGenerator) -> TrainingBatch {
                batches += 1
                var b = data.trainingBatch(size: size, length: length, generator: &generator)
                if batches > 13 { b.lossWeights = [Double](repeating: .nan, count: size * length) }  // step 7 (2 per step)
                return b
            }
            func validationBatches(size: Int, length: Int, limit: Int) -> [TrainingBatch] { [] }
        }
        let folder = Self.folder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let run = try TrainingRun(trainer: try Self.trainer(source: Poisoned(try TrainerTests.dataset())), folder: folder,
                                  checkpointInterval: 3)
        let error = #expect(throws: TrainingError.self) { try run.run() }
        if case .nonFinite(let step, let what, _)? = error { #expect(step == 7 && what == "loss") } else { Issue.record("no error") }
        #expect(try Checkpoint.load(from: run.checkpointURL).step == 6)
        #expect(FileManager.default.fileExists(atPath: run.lossCurveURL.path))
        #expect(try run.metrics.read().map(\.step) == Array(1...6))
    }

    /// A validation loss that is not finite stops the run with an error that says so (it used to stop it with a JSON
    /// encoding error, writing NaN into the metrics); the last checkpoint and the metrics so far stay as they were.
    @Test func nonFiniteValidationKeepsTheLastCheckpoint() throws {
        final class PoisonedValidation: BatchSource {
            let data: ByteDataset
            init(_ data: ByteDataset) { self.data = data }
            func trainingBatch(size: Int, length: Int, generator: inout RandomGenerator) -> TrainingBatch {
                data.trainingBatch(size: size, length: length, generator: &generator)
            }
            func validationBatches(size: Int, length: Int, limit: Int) -> [TrainingBatch] {
                data.validationBatches(size: size, length: length, limit: limit).map { batch in
                    var poisoned = batch
                    poisoned.lossWeights = [Double](repeating: .nan, count: batch.targets.count)
                    return poisoned
                }
            }
        }
        let folder = Self.folder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let run = try TrainingRun(trainer: try Self.trainer(source: PoisonedValidation(try TrainerTests.dataset())), folder: folder,
                                  checkpointInterval: 3)
        let error = #expect(throws: TrainingError.self) { try run.run() }
        if case .nonFiniteValidation(let step, _)? = error { #expect(step == 5) } else { Issue.record("no validation error") }
        #expect(try Checkpoint.load(from: run.checkpointURL).step == 3)
        #expect(try run.metrics.read().map(\.step) == Array(1...5))
        #expect(try run.metrics.read().allSatisfy { $0.validationLoss == nil })
    }

    /// A line cut short (a crash mid-write) is skipped when reading the metrics back.
    @Test func metricsSkipABrokenLine() throws {
        let folder = Self.folder()
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let log = MetricsLog(url: folder.appendingPathComponent("metrics.jsonl"))
        try log.append(MetricsRecord(step: 1, loss: 2))
        try log.append(MetricsRecord(step: 2, validationLoss: 1.5, bitsPerByte: 2.1))
        let handle = try FileHandle(forWritingTo: log.url)
        try handle.seekToEnd()
        try handle.write(contentsOf: Data("{\"step\": 3, \"lo".utf8))
        try handle.close()
        #expect(try log.read() == [MetricsRecord(step: 1, loss: 2), MetricsRecord(step: 2, validationLoss: 1.5, bitsPerByte: 2.1)])
        let text = try String(contentsOf: log.url, encoding: .utf8)
        #expect(text.hasPrefix("{\"loss\":2,\"step\":1}\n"))
    }

    /// The running mean averages the last `window` values, fewer at the start.
    @Test func runningMean() {
        var mean = RunningMean(window: 3)
        #expect([1.0, 3, 5, 7, 9].map { mean.add($0) } == [1, 2, 3, 5, 7])
    }
}
