import ArgumentParser
import Foundation
import TitansEval
import TitansTraining

/// `titans dna train|eval`: classifying DNA sequences (the paper's Table 4) from one FASTA file per class.
struct DNACommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dna",
        abstract: "Classify DNA sequences (the paper's Table 4): train on one FASTA file per class, score checkpoints.",
        discussion: "Each class is --class NAME=FILE.fa (`bash scripts/fetch-dna` writes binding sites, splice junctions and "
            + "promoters to data/dna). Sequences are read as bytes (A, C, G, T, N; lower case as upper case; any other "
            + "letter is refused with its line), cropped or padded with N to one length, embedded, mixed by the blocks of "
            + "any architecture, averaged and mapped to a class. For DNA language modelling, train on "
            + "data/dna/promoters.txt with `titans train --data` (bits per byte are bits per nucleotide there).",
        subcommands: [DNATrain.self, DNAEval.self])

    /// `NAME=FILE` pairs, read: each class's name and records.
    static func classes(_ specs: [String], flag: String) throws -> [(name: String, records: [FastaRecord])] {
        try specs.map { spec in
            guard let equals = spec.firstIndex(of: "="), equals != spec.startIndex, spec.index(after: equals) != spec.endIndex else {
                throw ValidationError("\(flag) takes NAME=FILE.fa (a class name and its FASTA file), got \"\(spec)\"")
            }
            let path = String(spec[spec.index(after: equals)...])
            return (String(spec[..<equals]), try FastaFile.read(URL(fileURLWithPath: path)))
        }
    }

    /// One line per class: correct of total.
    static func describe(_ score: ClassificationEvaluation.Score, classes: [String]) -> String {
        zip(classes, score.perClass).map { "\($0) \($1.correct)/\($1.count)" }.joined(separator: ", ")
    }
}

struct DNATrain: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train", abstract: "Train a classifier of DNA sequences and score it on the test part.",
        discussion: "Writes OUTPUT/checkpoint.safetensors. The test part is --test NAME=FILE.fa per class (the same names, in "
            + "the same order), or a seeded tenth of each class held out.")

    @Option(name: .customLong("class"), help: "A class and its sequences, NAME=FILE.fa; once per class (at least two).")
    var classes: [String] = []
    @Option(help: "A class's test sequences, NAME=FILE.fa; once per class, or none to hold out a tenth.") var test: [String] = []
    @Option(help: "Bytes per sequence: longer ones are cropped, shorter ones padded with N (default: the longest).") var length: Int?
    @OptionGroup var model: ModelOptions
    @Option(help: "Optimiser steps (default 1000).") var steps = 1000
    @Option(help: "Sequences per step (default 32).") var batchSize = 32
    @Option(help: "Peak learning rate (default 1e-3).") var learningRate = 1e-3
    @Option(help: "Seed of the initialisation, the held-out tenth and the batches (default 0).") var seed: UInt64 = 0
    @Option(help: "Folder for the checkpoint.") var output = "titans-dna"

    @OptionGroup var computeDevice: DeviceOption

    func run() throws {
        try computeDevice.apply()
        guard steps >= 1, batchSize >= 1 else { throw ValidationError("--steps and --batch-size must be at least 1") }
        let data = try LabelledSequences(classes: try DNACommand.classes(classes, flag: "--class"),
                                         test: test.isEmpty ? nil : try DNACommand.classes(test, flag: "--test"),
                                         length: length, seed: seed)
        var backbone = try model.smallConfiguration()
        backbone.vocabularySize = 256
        let configuration = ClassifierConfiguration(backbone: backbone, classes: data.classes)
        if let problem = configuration.problem { throw ValidationError(problem) }
        var generator = RandomGenerator(seed: seed)
        let classifier = SequenceClassifier(configuration, generator: &generator)
        let trainer = Trainer(model: classifier, source: data,
                              configuration: TrainingConfiguration(steps: steps, batchSize: batchSize, sequenceLength: data.length,
                                                                   learningRate: learningRate, seed: seed))
        let resized = data.cropped + data.padded > 0 ? " (\(data.cropped) cropped, \(data.padded) padded with N)" : ""
        print("\(data.classes.count) classes, \(data.training.count) training and \(data.test.count) test sequences of \(data.length) bytes\(resized); "
              + "\(classifier.parameterCount) parameters")
        let seconds = try trainShowingProgress(trainer, label: "train", lossName: "loss")
        let folder = URL(fileURLWithPath: output)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try trainer.checkpoint(metadata: ["length": String(data.length)]).save(to: folder.appendingPathComponent("checkpoint.safetensors"))
        let score = ClassificationEvaluation.score(of: classifier, on: data.test, in: data)
        print(String(format: "test accuracy %.1f%% (%@); %.0f s of training; wrote %@", 100 * score.accuracy,
                     DNACommand.describe(score, classes: data.classes), seconds, folder.appendingPathComponent("checkpoint.safetensors").path))
    }
}

struct DNAEval: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval", abstract: "Score a DNA classifier on sequences of each class.")

    @Option(help: "A checkpoint written by `titans dna train`.") var checkpoint: String
    @Option(name: .customLong("class"), help: "A class and its sequences, NAME=FILE.fa; every class of the checkpoint, in its order.")
    var classes: [String] = []

    @OptionGroup var computeDevice: DeviceOption

    func run() throws {
        try computeDevice.apply()
        let saved = try loadCheckpoint(checkpoint)
        guard let configuration = try? JSONDecoder().decode(ClassifierConfiguration.self, from: Data(saved.config.utf8)),
              configuration.problem == nil, let length = saved.metadata["length"].flatMap(Int.init), length >= 1 else {
            throw CommandError("\(checkpoint) is not a DNA classifier's checkpoint; `titans dna train` writes them")
        }
        let given = try DNACommand.classes(classes, flag: "--class")
        guard given.map(\.name) == configuration.classes else {
            throw CommandError("the checkpoint's classes are \(configuration.classes.joined(separator: ", ")); give --class NAME=FILE.fa for each, in that order")
        }
        // Everything given is scored: it is the test part, and the training part is left empty.
        let data = try LabelledSequences(classes: given.map { ($0.name, []) }, test: given, length: length)
        var generator = RandomGenerator(seed: 0)
        let model = SequenceClassifier(configuration, generator: &generator)
        try saved.restore(into: model.namedParameters(), optimizer: nil, expectedConfig: model.configurationJSON)
        let score = ClassificationEvaluation.score(of: model, on: data.test, in: data)
        print(String(format: "accuracy %.1f%% (%@) over %d sequences of %d bytes", 100 * score.accuracy,
                     DNACommand.describe(score, classes: configuration.classes), score.count, length))
    }
}
