import ArgumentParser
import Foundation
import TitansTraining

/// `titans data prepare`: text into a token file for `titans train --tokens`; `titans data task`: generated task
/// examples as JSON lines for `titans train --tasks`.
struct DataCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "data",
        abstract: "Prepare training data.",
        subcommands: [Prepare.self, Task.self]
    )

    struct Prepare: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Encode text (a file, a folder of files, or JSON lines) into a token file with a held-out split.",
            discussion: "Each file (or each JSON line) is a document, followed by the tokenizer's end-of-text token when "
                + "it has one. The file is read a piece at a time and the tokens are written as they come, so a corpus "
                + "larger than memory can be prepared; training maps the result instead of loading it.")

        @Option(help: "A text file, or a folder whose files are all read.") var input: String
        @Option(help: "A tokenizer.json (e.g. from `titans tokenizer train`).") var tokenizer: String
        @Option(help: "The token file to write (an existing file is not overwritten).") var output: String
        @Option(help: "Read the input as JSON lines, each document's text in this string field.") var field: String?
        @Option(help: "Share of the tokens, from the end, held out for validation.") var validationFraction = 0.1

        func run() throws {
            guard (0..<1).contains(validationFraction) else {
                throw ValidationError("--validation-fraction must be in [0, 1), e.g. 0.1 to hold out the last 10% of the tokens")
            }
            guard !FileManager.default.fileExists(atPath: output) else {
                throw ValidationError("\(output) already exists; choose another --output or remove it")
            }
            let tokenizer = try Tokenizer.load(from: URL(fileURLWithPath: tokenizer))
            let corpus = try TextCorpus(path: input)
            let source: TokenFile.Source = field.map { .jsonLines(corpus, field: $0) } ?? .text(corpus)
            let start = Date()
            var lastReport = start
            let header = try TokenFile.prepare(source, tokenizer: tokenizer, validationFraction: validationFraction,
                                               to: URL(fileURLWithPath: output)) { bytes in
                guard Date().timeIntervalSince(lastReport) >= 10 else { return }
                lastReport = Date()
                print(String(format: "  %.1f MB read, %.1f MB/s", Double(bytes) / 1e6, Double(bytes) / 1e6 / lastReport.timeIntervalSince(start)))
            }
            let seconds = Date().timeIntervalSince(start)
            print("\(header.documents) documents, \(header.tokens) tokens (\(header.tokens - header.validationStart) held out) "
                  + "of \(header.tokenizer) (vocabulary \(header.vocabularySize), \(header.elementBytes * 8)-bit) in "
                  + String(format: "%.1f s; wrote %@", seconds, output))
        }
    }

    struct Task: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write examples of a built-in long-context task as JSON lines, for `titans train --tasks` and `titans eval jsonl`.",
            discussion: "Each line is {\"prompt\": …, \"answer\": …, \"task\": …} with the example's numeric fields "
                + "(length, distance, …), in a shuffled order. Mix lengths for a curriculum: --lengths 256,512,1024; a range (--lengths 352-512) "
                + "draws each example's length from it, which a memory trained in chunks needs (lengths that are all multiples of "
                + "the chunk size teach it one alignment of the question: the README's BABILong-style section). The default seed differs "
                + "from titans eval's, so evaluation examples are not training examples.")

        @Option(help: "The task: \(TaskCatalog.names.joined(separator: ", ")).") var task: String
        @Option(help: "Lengths in bytes (prompt and answer), or ranges LOW-HIGH to draw each example's length from, comma-separated.") var lengths: String
        @Option(help: "Examples per length or range.") var count: Int
        @Option(help: "The JSON-lines file to write (an existing file is not overwritten).") var output: String
        @Option(help: "A text file to hide the facts in (default: the built-in prose).") var haystack: String?
        @Option(help: "mqar: key–value pairs per example.") var pairs = 8
        @Option(help: "Seed of the examples.") var seed: UInt64 = 1

        func run() throws {
            guard count >= 1 else { throw ValidationError("--count must be at least 1") }
            guard !FileManager.default.fileExists(atPath: output) else {
                throw ValidationError("\(output) already exists; choose another --output or remove it")
            }
            let task = try TaskData.task(named: task, haystack: haystack, pairs: pairs)
            // Lengths mixed, so a held-out share from the file's end holds every length.
            var order = RandomGenerator(seed: seed)
            let examples = order.shuffled(TaskLength.examples(of: task, lengths: try TaskData.lengths(lengths, for: task), count: count, seed: seed))
            try PromptAnswerFile.write(examples, task: task.name, to: URL(fileURLWithPath: output))
            print("wrote \(examples.count) \(task.name) examples to \(output)")
        }
    }
}
