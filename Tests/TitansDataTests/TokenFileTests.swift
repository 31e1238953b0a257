import Foundation
import Testing
@testable import TitansData

/// Token files: prepared from text, folders and JSON lines, read back mapped, refused when damaged or misused.
struct TokenFileTests {
    static func folder() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("tokens-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    static let gpt2 = { try? TokenizerTests.tokenizer("gpt2") }()

    /// Two files are two documents, each its tokens then the separator; the held-out share and its bytes are right.
    @Test func preparesDocumentsWithSeparators() throws {
        let tokenizer = try #require(Self.gpt2), dir = try Self.folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let texts = ["The memory learns while it reads.\n", "Attention sees its window; 記憶 🧠 too.\n"]
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("in"), withIntermediateDirectories: true)
        for (i, text) in texts.enumerated() { try Data(text.utf8).write(to: dir.appendingPathComponent("in/\(i).txt")) }
        let url = dir.appendingPathComponent("corpus.tokens")
        let header = try TokenFile.prepare(.text(try TextCorpus(path: dir.appendingPathComponent("in").path)), tokenizer: tokenizer,
                                           validationFraction: 0.25, to: url)
        let separator = try #require(tokenizer.separator)
        let expected = texts.flatMap { tokenizer.encode($0) + [separator] }
        let file = try TokenFile(contentsOf: url)
        #expect(file.header == header)
        #expect(file.tokens(0..<header.tokens) == expected)
        #expect(file.documentEnds == [tokenizer.encode(texts[0]).count + 1, expected.count])
        #expect(header.validationStart == expected.count - Int((Double(expected.count) * 0.25).rounded()))
        let held = Array(expected[header.validationStart...]).filter { $0 != separator }
        #expect(header.validationBytes == (try tokenizer.decode(held)).count)
        #expect(try file.tokenizer().fingerprint == tokenizer.fingerprint)
    }

    /// A long document read in small pieces (cut before line breaks between words) encodes as the whole text does.
    @Test func piecesEncodeAsTheWholeDocument() throws {
        let tokenizer = try #require(Self.gpt2), dir = try Self.folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let text = (0..<300).map { "line \($0):  some words,\tspaces   \n\n  indented 記憶\n" }.joined()
        let input = dir.appendingPathComponent("long.txt")
        try Data(text.utf8).write(to: input)
        var corpus = try TextCorpus(path: input.path)
        corpus.pieceSize = 1000
        let url = dir.appendingPathComponent("long.tokens")
        try TokenFile.prepare(.text(corpus), tokenizer: tokenizer, validationFraction: 0, to: url)
        let file = try TokenFile(contentsOf: url)
        #expect(file.tokens(0..<file.header.tokens) == tokenizer.encode(text) + [try #require(tokenizer.separator)])
    }

    @Test func jsonLinesTakeTheNamedFieldAndRefuseLinesWithoutIt() throws {
        let tokenizer = try #require(Self.gpt2), dir = try Self.folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let input = dir.appendingPathComponent("docs.jsonl")
        try Data("{\"text\": \"first\"}\n\n{\"text\": \"second\", \"id\": 2}\n".utf8).write(to: input)
        let url = dir.appendingPathComponent("docs.tokens")
        let header = try TokenFile.prepare(.jsonLines(try TextCorpus(path: input.path), field: "text"), tokenizer: tokenizer,
                                           validationFraction: 0, to: url)
        #expect(header.documents == 2)
        // A record longer than a piece is read whole.
        var long = try TextCorpus(path: input.path)
        long.pieceSize = 8
        #expect(try TokenFile.prepare(.jsonLines(long, field: "text"), tokenizer: tokenizer, validationFraction: 0,
                                      to: dir.appendingPathComponent("long.tokens")).documents == 2)
        let bad = dir.appendingPathComponent("bad.jsonl")
        try Data("{\"text\": \"ok\"}\n{\"text\": \"fine\"}\n{\"body\": \"no text\"}\n".utf8).write(to: bad)
        var small = try TextCorpus(path: bad.path)
        small.pieceSize = 16  // a piece per line: the line count carries across pieces
        #expect(throws: TokenFileError.badRecord(path: bad.path, line: 3, reason: "it has no text field \"text\" (a string); name the field with --field")) {
            try TokenFile.prepare(.jsonLines(small, field: "text"), tokenizer: tokenizer,
                                  validationFraction: 0, to: dir.appendingPathComponent("bad.tokens"))
        }
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("bad.tokens").path))
        try Data("not json\n".utf8).write(to: bad)
        #expect(throws: TokenFileError.badRecord(path: bad.path, line: 1, reason: "it is not a JSON object")) {
            try TokenFile.prepare(.jsonLines(try TextCorpus(path: bad.path), field: "text"), tokenizer: tokenizer,
                                  validationFraction: 0, to: dir.appendingPathComponent("bad.tokens"))
        }
    }

    @Test func damagedAndForeignFilesAreRefused() throws {
        let tokenizer = try #require(Self.gpt2), dir = try Self.folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let input = dir.appendingPathComponent("a.txt")
        try Data(String(repeating: "some text to encode. ", count: 50).utf8).write(to: input)
        let url = dir.appendingPathComponent("a.tokens")
        try TokenFile.prepare(.text(try TextCorpus(path: input.path)), tokenizer: tokenizer, validationFraction: 0.2, to: url)
        let bytes = try Data(contentsOf: url)
        let cut = dir.appendingPathComponent("cut.tokens")
        try bytes.prefix(bytes.count - 10).write(to: cut)
        #expect(throws: TokenFileError.self) { try TokenFile(contentsOf: cut) }
        #expect(throws: TokenFileError.notATokenFile(path: input.path)) { try TokenFile(contentsOf: input) }
        var outside = bytes  // the first token set to 65535, outside the vocabulary of 1,000
        outside[TokenFile.tokensOffset] = 0xFF
        outside[TokenFile.tokensOffset + 1] = 0xFF
        let poisoned = dir.appendingPathComponent("outside.tokens")
        try outside.write(to: poisoned)
        #expect(throws: TokenFileError.damaged(path: poisoned.path, reason: "token 0 is 65535, outside its vocabulary of 1000")) {
            try TokenDataset(contentsOf: poisoned, minimumLength: 4)
        }
        var ends = bytes  // the document's end set to 2⁶⁴ − 1 (found by the fuzzer: it once trapped)
        let endOffset = TokenFile.tokensOffset + 2 * (try TokenFile(contentsOf: url).header.tokens)
        for i in 0..<8 { ends[endOffset + i] = 0xFF }
        try ends.write(to: poisoned)
        #expect(throws: TokenFileError.damaged(path: poisoned.path, reason: "its document ends are not increasing offsets into its tokens")) {
            try TokenFile(contentsOf: poisoned)
        }
        #expect(throws: TokenFileError.tooShort(path: url.path, split: "training", tokens: try TokenFile(contentsOf: url).header.validationStart,
                                                needed: 10_001)) { try TokenDataset(contentsOf: url, minimumLength: 10_000) }
    }

    /// Windows come from their split, each with its targets one token on.
    @Test func batchesComeFromTheirSplit() throws {
        let tokenizer = try #require(Self.gpt2), dir = try Self.folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let input = dir.appendingPathComponent("a.txt")
        try Data((0..<400).map { "word\($0) " }.joined().utf8).write(to: input)
        let url = dir.appendingPathComponent("a.tokens")
        try TokenFile.prepare(.text(try TextCorpus(path: input.path)), tokenizer: tokenizer, validationFraction: 0.3, to: url)
        let dataset = try TokenDataset(contentsOf: url, minimumLength: 8)
        let all = dataset.file.tokens(0..<dataset.header.tokens)
        var rng = RandomGenerator(seed: 1)
        let batch = dataset.randomWindows(size: 16, length: 8, generator: &rng)
        for row in 0..<16 {
            let inputs = Array(batch.inputs.values[(row * 8)..<(row * 8 + 8)])
            let targets = Array(batch.targets.values[(row * 8)..<(row * 8 + 8)])
            #expect(Array(inputs.dropFirst()) == Array(targets.dropLast()))
            let start = try #require((0..<dataset.header.validationStart).first { Array(all[$0..<($0 + 8)]) == inputs })
            #expect(start + 9 <= dataset.header.validationStart)
        }
        let held = dataset.heldOutWindows(size: 4, length: 8, limit: 100)
        #expect(held.first.map { Array($0.inputs.values.prefix(8)) } == Array(all[dataset.header.validationStart..<(dataset.header.validationStart + 8)]))
    }
}
