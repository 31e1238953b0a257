import ArgumentParser
import Foundation
import TitansTraining

/// `titans bench tokenizer`: how fast a tokenizer encodes a text file, in MB/s (the comparison with Hugging Face
/// `tokenizers` is tools/tokenizers/speed).
struct TokenizerBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokenizer",
        abstract: "Encoding speed of a tokenizer.json on a text file: MB/s, tokens, bytes per token (one thread)."
    )

    @Option(help: "A tokenizer.json.") var tokenizer: String
    @Option(help: "A text file to encode (read whole).") var data: String
    @Option(help: "Timed repetitions; the best is printed.") var repeats = 3

    func run() throws {
        guard repeats >= 1 else { throw ValidationError("--repeats must be at least 1") }
        let tokenizer = try Tokenizer.load(from: URL(fileURLWithPath: tokenizer))
        let text: [UInt8]
        do {
            text = Array(try Data(contentsOf: URL(fileURLWithPath: data)))
        } catch {
            throw CommandError("cannot read \(data) (\((error as NSError).localizedDescription)); check the path")
        }
        var best = Double.infinity, count = 0
        for _ in 0..<repeats {
            let start = Date()
            count = tokenizer.encode(bytes: text).count
            best = min(best, Date().timeIntervalSince(start))
        }
        print(String(format: "%@: %.2f MB in %.3f s: %.2f MB/s, %d tokens, %.2f bytes per token", tokenizer.name,
                     Double(text.count) / 1e6, best, Double(text.count) / 1e6 / best, count, Double(text.count) / Double(max(count, 1))))
    }
}
