import Foundation

/// A training run kept in a folder: `checkpoint.safetensors` (the latest, rewritten atomically every
/// `checkpointInterval` steps and at the end), `metrics.jsonl` (one line per step and per validation) and `loss.svg`
/// (the loss curve, drawn at the end and when training stops on a non-finite loss).
///
/// ```swift
/// let run = try TrainingRun(trainer: trainer, folder: URL(fileURLWithPath: "runs/mag"), checkpointInterval: 100)
/// run.tensorBoard = try TensorBoardLog(folder: URL(fileURLWithPath: "runs/mag/events"))
/// try run.run(onStep: { event in print(event.report.step, event.report.loss) })
/// ```
public final class TrainingRun<Model: TrainableModel> {
    public let trainer: Trainer<Model>
    public let folder: URL
    public let checkpointInterval: Int
    /// Extra checkpoint metadata (e.g. where the data came from), kept across resumptions.
    public let metadata: [String: String]
    public let metrics: MetricsLog
    /// Where the metrics also go as TensorBoard scalars, when set (on the first rank only).
    public var tensorBoard: TensorBoardLog?

    public var checkpointURL: URL { Self.checkpointURL(in: folder) }
    public var lossCurveURL: URL { folder.appendingPathComponent("loss.svg") }
    public static func checkpointURL(in folder: URL) -> URL { folder.appendingPathComponent("checkpoint.safetensors") }

    /// Starts a run in `folder` (created if needed), or continues one when `trainer` was resumed from `resumedFrom`.
    /// A folder holding another run's checkpoint is refused, so no earlier run is overwritten; a resumed run's
    /// metrics after its checkpoint's step are dropped (those steps are trained again).
    /// In a group of processes (``Trainer/join(_:)``) only the first rank touches the folder; the others compute.
    public init(trainer: Trainer<Model>, folder: URL, resumedFrom: URL? = nil, checkpointInterval: Int,
                metadata: [String: String] = [:]) throws {
        precondition(checkpointInterval >= 1, "TrainingRun: checkpointInterval must be at least 1")
        self.trainer = trainer
        self.folder = folder
        self.checkpointInterval = checkpointInterval
        self.metadata = metadata.filter { $0.key != "training" }
        metrics = MetricsLog(url: folder.appendingPathComponent("metrics.jsonl"))
        guard trainer.group.isPrimary else { return }
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: folder.path, isDirectory: &isDirectory), !isDirectory.boolValue {
            throw RunError.notAFolder(path: folder.path)
        }
        let existing = Self.checkpointURL(in: folder)
        if FileManager.default.fileExists(atPath: existing.path),
           resumedFrom?.resolvingSymlinksInPath().standardizedFileURL != existing.resolvingSymlinksInPath().standardizedFileURL {
            throw RunError.folderHoldsARun(folder: folder.path)
        }
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        } catch {
            throw RunError.cannotCreateFolder(path: folder.path, reason: (error as NSError).localizedDescription)
        }
        Self.removeUnfinishedCheckpoints(in: folder)
        if resumedFrom == nil {
            try? FileManager.default.removeItem(at: metrics.url)  // left by a run stopped before its first checkpoint
        } else {
            try metrics.keep(upTo: trainer.step)
        }
    }

    /// Removes the temporary files of checkpoint writes that a killed process left unfinished (`.checkpoint.safetensors.*.tmp`;
    /// the checkpoint itself is only ever replaced by a finished one, renamed over it).
    private static func removeUnfinishedCheckpoints(in folder: URL) {
        let prefix = "." + checkpointURL(in: folder).lastPathComponent + "."
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        for name in names where name.hasPrefix(prefix) && name.hasSuffix(".tmp") {
            try? FileManager.default.removeItem(at: folder.appendingPathComponent(name))
        }
    }

    /// What happened at a step: the step's report and, at validation steps, the validation loss.
    ///
    /// ```swift
    /// try run.run(onStep: { event in if let v = event.validationLoss { print(event.report.step, v) } })
    /// ```
    public struct Event {
        public let report: StepReport
        public let tokensPerSecond: Double
        public let validationLoss: Double?
        public let checkpointed: Bool
    }

    /// How a call to ``run(until:stopRequested:onStep:)`` ended.
    ///
    /// ```swift
    /// if try run.run(stopRequested: { interrupted }) == .stopped { print("checkpointed; resume later") }
    /// ```
    public enum Outcome: Equatable {
        /// It trained up to the step it was asked to reach.
        case reachedStep
        /// `stopRequested` said to stop; the step it was taking was finished and checkpointed.
        case stopped
    }

    /// Trains until the configured number of steps (or `stopStep`, when given, to stop early), appending metrics,
    /// validating every `evaluationInterval` steps and at the end, and checkpointing every `checkpointInterval` steps
    /// and at the end. After each step `stopRequested` is asked whether to stop (an interrupted run): if so the step is
    /// checkpointed and the run returns ``Outcome/stopped``, to be continued by resuming from the checkpoint. A
    /// non-finite loss, training or validation, stops the run (the error says so); the last checkpoint written stays as
    /// it was. In a group, a stop asked of any rank stops them all after the same step, and only the first rank writes.
    @discardableResult
    public func run(until stopStep: Int? = nil, stopRequested: () -> Bool = { false },
                    onStep: (Event) -> Void = { _ in }) throws -> Outcome {
        let c = trainer.configuration, writes = trainer.group.isPrimary
        defer { if writes { try? metrics.lossCurve().write(to: lossCurveURL) } }
        while trainer.step < min(c.steps, stopStep ?? c.steps) {
            let start = Date()
            let report = try trainer.trainStep()
            let rate = Double(report.tokens) / max(Date().timeIntervalSince(start), 1e-9)
            try record(MetricsRecord(step: report.step, loss: report.loss, learningRate: report.learningRate,
                                     gradientNorm: report.gradientNorm, tokensPerSecond: rate))
            let last = report.step == c.steps
            var validation: Double? = nil
            if report.step % c.evaluationInterval == 0 || last, let loss = trainer.validationLoss() {
                guard loss.isFinite else { throw TrainingError.nonFiniteValidation(step: report.step, value: loss) }
                validation = loss
                try record(MetricsRecord(step: report.step, validationLoss: loss, bitsPerByte: trainer.source.bitsPerByte(ofLoss: loss)))
            }
            let stopping = trainer.group.any(stopRequested())
            let checkpointed = report.step % checkpointInterval == 0 || last || stopping
            if checkpointed && writes {
                try trainer.checkpoint(metadata: metadata).save(to: checkpointURL)
                try tensorBoard?.synchronize()
            }
            onStep(Event(report: report, tokensPerSecond: rate, validationLoss: validation, checkpointed: checkpointed))
            if stopping && !last { return .stopped }
        }
        return .reachedStep
    }

    /// Appends `entry` to the metrics and to the TensorBoard log, on the rank that writes.
    private func record(_ entry: MetricsRecord) throws {
        guard trainer.group.isPrimary else { return }
        try metrics.append(entry)
        try tensorBoard?.scalars(entry.namedValues, step: entry.step)
    }
}

/// Why a run cannot start or continue. Each message says what to do.
///
/// ```swift
/// do { _ = try TrainingRun(trainer: trainer, folder: folder, checkpointInterval: 100) } catch let error as RunError { print(error) }   // says what to do
/// ```
public enum RunError: Error, CustomStringConvertible, Equatable {
    case folderHoldsARun(folder: String)
    case notAFolder(path: String)
    case cannotCreateFolder(path: String, reason: String)
    case unreadableSettings(file: String, key: String)
    /// The configuration describes a model of at least `claimed` parameters, more than the `held` the file holds.
    case configurationLargerThanFile(file: String, claimed: Double, held: Int)

    public var description: String {
        switch self {
        case .folderHoldsARun(let folder):
            return "\(folder) already holds a run (checkpoint.safetensors); continue it with --resume "
                + "\(Self.checkpoint(in: folder)), or choose another --output folder"
        case .notAFolder(let path):
            return "\(path) exists and is not a folder; choose another --output"
        case .cannotCreateFolder(let path, let reason):
            return "cannot create the folder \(path) (\(reason)); choose another --output"
        case .unreadableSettings(let file, "config"):
            return "\(file) holds no valid model configuration in its metadata; pass a checkpoint written by `titans train`"
        case .configurationLargerThanFile(let file, let claimed, let held):
            return "\(file) describes a model of at least \(String(format: "%.3g", claimed)) parameters but holds \(held): "
                + "its configuration is damaged or was not written with these weights; use an earlier checkpoint"
        case .unreadableSettings(let file, let key):
            return "\(file) has no readable \"\(key)\" setting in its metadata; it was not written by `titans train`, "
                + "so it cannot be resumed (it can still be used with `titans generate`)"
        }
    }

    static func checkpoint(in folder: String) -> String { (folder as NSString).appendingPathComponent("checkpoint.safetensors") }
}

extension Checkpoint {
    /// The model configuration a checkpoint holds, checked to describe a model (to rebuild it for generation) no larger
    /// than the parameters the file holds (`ModelConfiguration.minimumParameterCount`).
    public func modelConfiguration(file: String) throws -> ModelConfiguration {
        guard let model = try? JSONDecoder().decode(ModelConfiguration.self, from: Data(config.utf8)),
              model.problem == nil else {
            throw RunError.unreadableSettings(file: file, key: "config")
        }
        let held = parameters.reduce(0) { $0 + $1.tensor.count }
        guard model.minimumParameterCount <= Double(held) else {
            throw RunError.configurationLargerThanFile(file: file, claimed: model.minimumParameterCount, held: held)
        }
        return model
    }

    /// The model and training configurations a checkpoint was written with, to rebuild its run before resuming.
    public func trainingSettings(file: String) throws -> (model: ModelConfiguration, training: TrainingConfiguration) {
        let model = try modelConfiguration(file: file)
        guard let text = metadata["training"],
              let training = try? JSONDecoder().decode(TrainingConfiguration.self, from: Data(text.utf8)),
              training.problem == nil else {
            throw RunError.unreadableSettings(file: file, key: "training")
        }
        return (model, training)
    }
}
