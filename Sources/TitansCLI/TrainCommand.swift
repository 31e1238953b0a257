import ArgumentParser
import Foundation
import TitansTraining

/// `titans train`: trains a model on any file read as bytes, with checkpoints, metrics and resumption.
struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a model on any file (read as bytes) with checkpoints, validation, metrics and exact resumption.",
        discussion: """
            Writes to --output: checkpoint.safetensors (every --checkpoint-interval steps and at the end, atomically), \
            metrics.jsonl (a line per step and per validation) and loss.svg. `--resume FOLDER/checkpoint.safetensors` \
            continues a run exactly; its model and training settings come from the checkpoint.
            """
    )

    /// The training defaults, read from the library.
    static let defaults = TrainingConfiguration.standard

    @Option(help: "The data: any file, read as bytes (or --tokens or --tasks; required unless resuming a run that recorded it).") var data: String?
    @Option(help: "The data as tokens: a token file made by `titans data prepare` (its tokenizer goes into the checkpoint).")
    var tokens: String?
    @Option(help: "Prompt–answer examples as JSON lines (from `titans data task` or your own), scored on the answers; each row packs whole examples.")
    var tasks: String?
    @Option(help: "--tasks: the loss weight of each prompt byte against 1 for an answer byte (default 0: answers only; a little, such as 0.1, lets the model learn from the text it reads too).")
    var promptWeight: Double?
    @OptionGroup var model: ModelOptions
    @Option(help: "Optimiser steps (default \(defaults.steps)).") var steps: Int?
    @Option(help: "Sequences per micro-batch (default \(defaults.batchSize)).") var batchSize: Int?
    @Option(help: "Bytes per sequence (default \(defaults.sequenceLength)).") var sequenceLength: Int?
    @Option(help: "Micro-batches per optimiser step (default \(defaults.accumulation)).") var accumulation: Int?
    @Option(help: "Peak learning rate (default \(defaults.learningRate)).") var learningRate: Double?
    @Option(help: "Final learning rate of the cosine decay (default: a tenth of the peak).") var minimumLearningRate: Double?
    @Option(help: "Linear warm-up steps (default 5% of the steps).") var warmupSteps: Int?
    @Option(help: "Decoupled weight decay (default \(defaults.weightDecay)).") var weightDecay: Double?
    @Option(help: "Global gradient-norm clip (default \(defaults.gradientClip)).") var gradientClip: Double?
    @Option(help: "Seed for initialisation and batches (default \(defaults.seed)).") var seed: UInt64?
    @Option(help: "Steps between validations (default \(defaults.evaluationInterval)).") var evaluationInterval: Int?
    @Option(help: "Validation batches per validation (default \(defaults.evaluationBatches)).") var evaluationBatches: Int?
    @Option(help: "Share of the file, from its end, held out for validation (default \(ByteDataset.defaultValidationFraction)).")
    var validationFraction: Double?
    static let defaultCheckpointInterval = 100
    @Option(help: "Steps between checkpoints (default \(defaultCheckpointInterval), or the resumed run's).") var checkpointInterval: Int?
    @Option(help: "Folder for the checkpoint, metrics and loss curve (default: titans-run, or the resumed checkpoint's folder).") var output: String?
    @Option(help: "Continue the run saved in this checkpoint.") var resume: String?
    @Option(help: "Start a new run from this checkpoint's model (its configuration and weights; a fresh optimiser and schedule): fine-tuning, e.g. on --tasks after training on text.")
    var initializeFrom: String?
    @Option(help: "Also write the metrics as TensorBoard scalars to this folder (a new event file per run or resumption).")
    var tensorboard: String?
    @Flag(help: ArgumentHelp("Recompute each block in the backward pass instead of keeping its activations (activation "
                             + "checkpointing): less memory for long sequences, about a third more compute, the same results."))
    var recompute = false

    @OptionGroup var computeDevice: DeviceOption

    func run() throws {
        try computeDevice.apply()
        let group = try MPIProcessGroup.fromEnvironment()
        guard let mpi = group as? MPIProcessGroup else { return try run(in: group) }
        // Under an MPI launcher: each rank takes its share of this machine's cores, unless TITANS_THREADS chose.
        if !Parallel.threadCountChosen {
            Parallel.setThreadCount(Parallel.threadCount / max(1, mpi.ranksOnThisMachine))
        }
        do {
            try run(in: group)
            group.finish()
        } catch let exit as ExitCode {  // every rank stopped after the same step (an interruption)
            group.finish()
            throw exit
        } catch {
            // A failure one rank saw ends them all: the others would wait for it in the next sum.
            FileHandle.standardError.write(Data("Error (rank \(group.rank) of \(group.size)): \(Self.message(for: error))\n".utf8))
            group.abort(code: Self.exitCode(for: error).rawValue)
        }
    }

    private func run(in group: any ProcessGroup) throws {
        guard (checkpointInterval ?? 1) >= 1 else { throw ValidationError("--checkpoint-interval must be at least 1") }
        let checkpoint: Checkpoint?, config: ModelConfiguration, training: TrainingConfiguration
        let folder: URL, source: TrainingData, interval: Int
        if resume != nil && initializeFrom != nil {
            throw ValidationError("--resume continues a run and --initialize-from starts a new one from a model: give one of them")
        }
        var initial: Checkpoint?
        if let resume {
            let given = [steps, batchSize, sequenceLength, accumulation, warmupSteps, evaluationInterval, evaluationBatches]
                .contains { $0 != nil } || [learningRate, minimumLearningRate, weightDecay, gradientClip, validationFraction]
                .contains { $0 != nil } || seed != nil || promptWeight != nil || model.anyGiven
            guard !given else {
                throw ValidationError("a resumed run takes its model and training settings from the checkpoint; "
                                      + "drop those flags (only --data, --tokens or --tasks, --output, --checkpoint-interval and --tensorboard may be given)")
            }
            let url = URL(fileURLWithPath: resume)
            let saved = try loadCheckpoint(resume)
            (config, training) = try saved.trainingSettings(file: resume)
            source = try TrainingData.resumed(saved.metadata, data: data, tokens: tokens, tasks: tasks)
            checkpoint = saved
            interval = checkpointInterval ?? saved.metadata["checkpoint_interval"].flatMap(Int.init).map { max($0, 1) } ?? Self.defaultCheckpointInterval
            folder = output.map { URL(fileURLWithPath: $0) } ?? url.deletingLastPathComponent()
        } else {
            source = try TrainingData.chosen(data: data, tokens: tokens, tasks: tasks, validationFraction: validationFraction,
                                             promptWeight: promptWeight)
            checkpoint = nil
            interval = checkpointInterval ?? Self.defaultCheckpointInterval
            let d = Self.defaults
            training = TrainingConfiguration(
                steps: steps ?? d.steps, batchSize: batchSize ?? d.batchSize, sequenceLength: sequenceLength ?? d.sequenceLength,
                learningRate: learningRate ?? d.learningRate, minimumLearningRate: minimumLearningRate, warmupSteps: warmupSteps,
                weightDecay: weightDecay ?? d.weightDecay, gradientClip: gradientClip ?? d.gradientClip,
                accumulation: accumulation ?? d.accumulation, seed: seed ?? d.seed,
                evaluationInterval: evaluationInterval ?? d.evaluationInterval, evaluationBatches: evaluationBatches ?? d.evaluationBatches)
            if let problem = training.problem { throw ValidationError(problem) }
            if let initializeFrom {
                guard !model.anyGiven else {
                    throw ValidationError("--initialize-from takes the model from the checkpoint; drop the model flags (--architecture, --width, …)")
                }
                let saved = try loadCheckpoint(initializeFrom)
                config = try saved.modelConfiguration(file: initializeFrom)
                initial = saved
            } else {
                config = try model.configuration()
            }
            folder = URL(fileURLWithPath: output ?? "titans-run")
        }
        let origin = checkpoint ?? initial  // where the model comes from, if not from scratch
        if origin?.metadata["tokenizer"] != nil {
            guard case .tokens = source else {
                throw ValidationError("the checkpoint's model reads subword tokens; train it on a token file from the same tokenizer (--tokens)")
            }
        }
        let data = try source.open(sequenceLength: training.sequenceLength, expectedTokenizer: origin?.metadata["tokenizer"])
        var modelConfiguration = config
        if checkpoint == nil && initial == nil { modelConfiguration.vocabularySize = data.vocabularySize }  // tokens need their vocabulary
        guard modelConfiguration.vocabularySize >= data.vocabularySize else {
            throw CommandError("the data's vocabulary has \(data.vocabularySize) tokens but the checkpoint's model \(modelConfiguration.vocabularySize)")
        }
        var rng = RandomGenerator(seed: training.seed)
        let trainer = Trainer(model: LanguageModel(modelConfiguration, generator: &rng), source: data.source, configuration: training)
        trainer.model.recomputesBlocks = recompute
        if let initial, let initializeFrom {
            try initial.restore(into: trainer.model.namedParameters(), optimizer: nil, expectedConfig: trainer.model.configurationJSON)
            if group.isPrimary { print("Starting from the model of \(initializeFrom)") }
        }
        try trainer.join(group)
        let say = { (line: String) in if group.isPrimary { print(line) } }
        if let checkpoint, let resume {
            try trainer.resume(from: checkpoint)
            say("Resuming \(resume) at step \(trainer.step) of \(training.steps) on \(source.path)")
            let savedRanks = checkpoint.metadata["ranks"].flatMap(Int.init) ?? 1
            if savedRanks != group.size {
                say("note: the checkpoint was written by \(savedRanks) rank(s) and continues on \(group.size): the same batches "
                    + "in the same order, but each batch's gradient is summed from other slices, so the run differs from "
                    + "one that kept \(savedRanks) by float rounding")
            }
        }
        let run = try TrainingRun(trainer: trainer, folder: folder, resumedFrom: resume.map { URL(fileURLWithPath: $0) },
                                  checkpointInterval: interval,
                                  metadata: data.metadata.merging(["checkpoint_interval": String(interval),
                                                                   "ranks": String(group.size)]) { _, new in new })
        if let tensorboard, group.isPrimary {
            run.tensorBoard = try TensorBoardLog(folder: URL(fileURLWithPath: tensorboard))
            if checkpoint != nil { try run.tensorBoard?.restart(at: trainer.step + 1) }
        }
        try train(run, say: say)
    }

    private func train(_ run: TrainingRun<LanguageModel>, say: (String) -> Void) throws {
        let c = run.trainer.configuration, group = run.trainer.group
        let m = run.trainer.model
        let ranks = group.size > 1 ? " on \(group.size) ranks of \(Parallel.threadCount) thread(s)" : ""
        say("\(m.configuration.architecture.rawValue): \(m.parameterCount) parameters; \(c.steps) steps of \(c.accumulation)×\(c.batchSize) "
            + "sequences of \(c.sequenceLength) \(run.trainer.source is TokenDataset ? "tokens" : "bytes")\(ranks); writing \(run.folder.path). Matmul: \(BLAS.backendName)")
        var progress = Progress(total: c.steps, label: "train", start: run.trainer.step)
        var loss = RunningMean(window: 20), lastValidation = ""
        Interruption.install()
        let outcome: TrainingRun<LanguageModel>.Outcome
        do {
            outcome = try run.run(stopRequested: { Interruption.receivedSignal != nil }) { event in
                let mean = loss.add(event.report.loss)
                if let v = event.validationLoss {
                    lastValidation = String(format: "  val %.3f", v)
                        + (run.trainer.source.bitsPerByte(ofLoss: v).map { String(format: " (%.3f bpb)", $0) } ?? "")
                }
                guard group.isPrimary else { return }
                progress.update(event.report.step, String(format: "loss %.3f  %.0f tok/s", mean, event.tokensPerSecond)
                                + (group.size > 1 ? "  \(group.size) ranks" : "") + lastValidation)
            }
        } catch let error as TrainingError {
            let kept = FileManager.default.fileExists(atPath: run.checkpointURL.path)
                ? "The last good checkpoint is \(run.checkpointURL.path) (resume with --resume \(run.checkpointURL.path))."
                : "No checkpoint had been written yet."
            guard group.size > 1 else { throw CommandError("\(error.description). \(kept)") }
            // Every rank saw the same loss and norm and stops here: one message, and the job ends normally.
            if group.isPrimary { FileHandle.standardError.write(Data("Error: \(error.description). \(kept)\n".utf8)) }
            throw ExitCode.failure
        }
        if outcome == .stopped {
            say("Interrupted at step \(run.trainer.step) of \(c.steps); wrote \(run.checkpointURL.path). "
                + "Continue with: titans train --resume \(run.checkpointURL.path)")
            throw ExitCode(128 + (Interruption.receivedSignal ?? SIGTERM))
        }
        say("Wrote \(run.checkpointURL.path), \(run.metrics.url.path) and \(run.lossCurveURL.path)")
    }
}
