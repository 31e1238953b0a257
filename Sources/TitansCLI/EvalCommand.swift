import ArgumentParser
import Foundation
import TitansEval
import TitansTraining

/// `titans eval`: a checkpoint's exact-match accuracy on a built-in long-context task or on the user's own examples.
struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Score a checkpoint on a long-context task: exact-match accuracy of greedy decoding, grouped by length or any field.",
        discussion: "Tasks: s-niah-pk, s-niah-n, s-niah-w (single needle in a haystack, the paper's Table 2), qa1 … qa5 "
            + "(BABILong-style reasoning, Fig. 6), mqar (many key–value pairs, one asked), or jsonl: your own examples "
            + "(--data, one {\"prompt\": …, \"answer\": …} per line, with any numeric fields to group by). Generated "
            + "examples are the same for every model with the same --seed. `titans eval text --data FILE` gives bits per "
            + "byte on any text instead (windows of --sequence-length from a fresh state, the file's last "
            + "--validation-fraction or all of it; byte-level checkpoints). A checkpoint over subword tokens is scored by "
            + "greedy decoding token by token."
    )

    @Argument(help: "The task: \(TaskCatalog.names.joined(separator: ", ")), jsonl, or text (bits per byte).") var task: String
    @Option(help: "A checkpoint written by `titans train`.") var checkpoint: String
    @Option(help: "Lengths in bytes (prompt and answer) of the generated examples, or ranges LOW-HIGH to draw each length from, comma-separated.") var lengths = "256,512,1024,2048"
    @Option(help: "Generated examples per length or range.") var examples = 50
    @Option(help: "A text file to hide the facts in (default: the built-in prose; s-niah-pk always uses its noise).") var haystack: String?
    @Option(help: "mqar: key–value pairs per example.") var pairs = 8
    @Option(help: "jsonl: the examples, one {\"prompt\": …, \"answer\": …} per line; text: any file.") var data: String?
    @Option(help: "text: bytes per window.") var sequenceLength = 512
    @Option(help: "text: the share of the file, from its end, to score (0: all of it).") var validationFraction = 0.0
    @Option(help: "Group accuracy by this numeric field (default: length for generated tasks; all together for jsonl).") var groupBy: String?
    @Option(help: "Seed of the generated examples.") var seed: UInt64 = 0
    @Option(help: "Examples scored together.") var batchSize = 8

    @OptionGroup var computeDevice: DeviceOption

    func run() throws {
        try computeDevice.apply()
        guard batchSize >= 1 else { throw ValidationError("--batch-size must be at least 1") }
        let (model, tokenizer) = try GenerateCommand.load(checkpoint)
        if task == "text" {
            guard tokenizer == nil else {
                throw CommandError("\(checkpoint) reads tokens of a tokenizer; text is scored in bits per byte here, so evaluate a "
                                   + "model trained on bytes, or see the bits per byte its training run reported on held-out tokens")
            }
            return try scoreText(model)
        }
        let (examples, name) = try chosenExamples()
        let start = Date()
        let results = tokenizer.map { TaskEvaluation.correct(of: model, tokenizer: $0, on: examples) }
            ?? TaskEvaluation.correct(of: model, on: examples, batchSize: batchSize)
        let field = groupBy ?? (task == "jsonl" ? nil : "length")
        let groups = TaskEvaluation.accuracy(examples, results, by: field)
        print("\(name): \(examples.count) examples, \(model.configuration.architecture.rawValue) from \(checkpoint), "
              + String(format: "%.1f s", Date().timeIntervalSince(start)))
        let table = MarkdownTable(headers: [field ?? "examples", "accuracy", "correct"],
                                  rows: groups.map { [$0.label, String(format: "%.1f%%", 100 * $0.accuracy), "\($0.correct) / \($0.count)"] },
                                  alignments: [.right, .right, .right])
        print(table.render(), terminator: "")
        let correct = results.filter { $0 }.count
        print(String(format: "overall: %.1f%% (%d / %d)", 100 * Double(correct) / Double(max(1, results.count)), correct, results.count))
    }

    /// Bits per byte of `model` on the text of `--data`.
    private func scoreText(_ model: LanguageModel) throws {
        guard let data else { throw ValidationError("text scores a file: pass it with --data FILE") }
        guard sequenceLength >= 1 else { throw ValidationError("--sequence-length must be at least 1") }
        guard (0..<1).contains(validationFraction) else { throw ValidationError("--validation-fraction must be in [0, 1)") }
        let dataset = try ByteDataset(contentsOf: URL(fileURLWithPath: data), validationFraction: validationFraction,
                                      minimumLength: sequenceLength)
        let start = Date()
        let score = TextEvaluation.bitsPerByte(of: model, on: dataset, split: validationFraction > 0 ? .validation : .train,
                                               length: sequenceLength, batchSize: batchSize)
        // A model whose predictions are not finite (diverged, or past the length it stays finite at) says so in words.
        let bits = score.bitsPerByte.isFinite ? String(format: "%.4f bits per byte", score.bitsPerByte)
            : "not finite (the model's predictions hold NaN or infinity at this length)"
        print(String(format: "%@: %@ over %d bytes (windows of %d from a fresh state), %@ from %@, %.1f s",
                     data, bits, score.bytes, sequenceLength,
                     model.configuration.architecture.rawValue, checkpoint, Date().timeIntervalSince(start)))
    }

    /// The examples to score and a name for them.
    private func chosenExamples() throws -> ([TaskExample], String) {
        if task == "jsonl" {
            guard let data else { throw ValidationError("jsonl scores your own examples: pass them with --data FILE.jsonl") }
            return (try PromptAnswerFile.read(URL(fileURLWithPath: data)), data)
        }
        guard data == nil else { throw ValidationError("--data is for the jsonl task; \(task) generates its examples") }
        let task = try TaskData.task(named: self.task, haystack: haystack, pairs: pairs)
        let lengths = try TaskData.lengths(lengths, for: task)
        guard examples >= 1 else { throw ValidationError("--examples must be at least 1") }
        return (TaskLength.examples(of: task, lengths: lengths, count: examples, seed: seed), task.name)
    }
}

/// Generated task examples as the command line asks for them.
enum TaskData {
    /// The built-in task `name`, with a haystack file when one is given.
    static func task(named name: String, haystack: String?, pairs: Int) throws -> any LongContextTask {
        guard pairs >= 1 && pairs <= AssociativeRecallTask.mostPairs else {
            throw ValidationError("--pairs must be in 1...\(AssociativeRecallTask.mostPairs)")
        }
        let text = try haystack.map { try Haystack(contentsOf: URL(fileURLWithPath: $0)) } ?? .prose
        guard let task = TaskCatalog.task(named: name, haystack: text, pairs: pairs) else {
            throw ValidationError("unknown task \(name); the tasks are \(TaskCatalog.names.joined(separator: ", ")) (and jsonl for titans eval)")
        }
        return task
    }

    /// Comma-separated lengths and ranges (``TaskLength``), each long enough for the task.
    static func lengths(_ text: String, for task: any LongContextTask) throws -> [TaskLength] {
        guard let lengths = TaskLength.parse(text, minimum: task.minimumLength) else {
            throw ValidationError("--lengths takes whole numbers of bytes or ranges LOW-HIGH, comma-separated, each at least "
                                  + "\(task.minimumLength) for \(task.name) (its facts and question alone)")
        }
        return lengths
    }
}
