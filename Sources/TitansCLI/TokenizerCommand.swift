import ArgumentParser
import Foundation
import TitansTraining

/// `titans tokenizer train|encode|decode`: subword tokenizers (Hugging Face tokenizer.json, BPE).
struct TokenizerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokenizer",
        abstract: "Train a byte-level BPE tokenizer, or encode and decode with any BPE tokenizer.json.",
        subcommands: [Train.self, Encode.self, Decode.self]
    )

    struct Train: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Learn a byte-level BPE (GPT-2's layout) from a text file or a folder of them; writes a tokenizer.json.")

        @Option(help: "A text file, or a folder whose files are all read.") var data: String
        @Option(help: "Tokens in the vocabulary, the 256 bytes and the special tokens included.") var vocabulary = 8192
        @Option(help: "The tokenizer.json to write (an existing file is not overwritten).") var output: String
        @Option(help: "Special tokens, comma-separated (the first marks document boundaries in token files).")
        var specialTokens = "<|endoftext|>"

        func run() throws {
            let url = URL(fileURLWithPath: output)
            guard !FileManager.default.fileExists(atPath: url.path) else {
                throw ValidationError("\(output) already exists; choose another --output or remove it")
            }
            let specials = specialTokens.split(separator: ",").map(String.init)
            let corpus = try TextCorpus(path: data)
            var counts = ByteLevelWordCounts(), bytes = 0
            let start = Date()
            try corpus.forEachPiece { piece, _ in
                counts.add(piece)
                bytes += piece.count
            }
            let counted = Date()
            let tokenizer = try Tokenizer.trainByteLevel(counts: counts, vocabularySize: vocabulary,
                                                         name: url.deletingPathExtension().lastPathComponent, specialTokens: specials)
            try tokenizer.write(to: url)
            print(String(format: "%d files, %.1f MB, %d distinct words (%.1f s); %d tokens learned (%.1f s); wrote %@",
                         corpus.files.count, Double(bytes) / 1e6, counts.distinctWords, counted.timeIntervalSince(start),
                         tokenizer.vocabularySize, Date().timeIntervalSince(counted), output))
        }
    }

    struct Encode: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Read text on standard input and print its token ids on one line, separated by spaces.")

        @Option(help: "A tokenizer.json.") var tokenizer: String

        func run() throws {
            let tokenizer = try Tokenizer.load(from: URL(fileURLWithPath: tokenizer))
            let input = FileHandle.standardInput.readDataToEndOfFile()
            print(tokenizer.encode(bytes: Array(input)).map(String.init).joined(separator: " "))
        }
    }

    struct Decode: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Read token ids (separated by spaces or lines) on standard input and write their bytes.")

        @Option(help: "A tokenizer.json.") var tokenizer: String

        func run() throws {
            let tokenizer = try Tokenizer.load(from: URL(fileURLWithPath: tokenizer))
            let input = String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
            let ids = try input.split(whereSeparator: \.isWhitespace).map { word -> Int in
                guard let id = Int(word) else { throw CommandError("\"\(word)\" is not a token id; give whole numbers separated by spaces") }
                return id
            }
            FileHandle.standardOutput.write(Data(try tokenizer.decode(ids)))
        }
    }
}
