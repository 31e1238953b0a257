import Foundation
import Testing
@testable import TitansData

/// Our BPE encoder against Hugging Face `tokenizers` on tokenizers that library trained (tools/tokenizers/make_fixtures.py:
/// GPT-2-style byte-level, Llama-style byte fallback, Metaspace with NFKC), over varied samples: the same ids, and
/// decoding as the library decodes.
struct TokenizerTests {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/tokenizers")
    static let names = ["gpt2", "llama", "metaspace"]

    struct Samples: Decodable {
        let samples: [String]
        let ids: [String: [[Int]]]
        let decoded: [String: [String]]
    }

    static func samples() throws -> Samples {
        try JSONDecoder().decode(Samples.self, from: Data(contentsOf: directory.appendingPathComponent("samples.json")))
    }

    static func tokenizer(_ name: String) throws -> Tokenizer {
        try Tokenizer.load(from: directory.appendingPathComponent("\(name).json"))
    }

    @Test(arguments: names)
    func encodesAsTheLibrary(_ name: String) throws {
        let tokenizer = try Self.tokenizer(name), fixture = try Self.samples()
        let expected = try #require(fixture.ids[name])
        for (sample, ids) in zip(fixture.samples, expected) {
            #expect(tokenizer.encode(sample) == ids, "\(name): \(sample.debugDescription)")
        }
    }

    @Test(arguments: names)
    func decodesAsTheLibrary(_ name: String) throws {
        let tokenizer = try Self.tokenizer(name), fixture = try Self.samples()
        for (ids, text) in zip(try #require(fixture.ids[name]), try #require(fixture.decoded[name])) {
            #expect(String(decoding: try tokenizer.decode(ids), as: UTF8.self) == text, "\(name): \(text.debugDescription)")
        }
    }

    /// A byte-level tokenizer spells any byte string: decode(encode(x)) = x, valid UTF-8 or not.
    @Test func byteLevelRoundTripsEveryByteString() throws {
        let tokenizer = try Self.tokenizer("gpt2")
        var rng = RandomGenerator(seed: 3)
        var strings: [[UInt8]] = [[], Array(0...255), [0xFF, 0xFE, 0x80, 0xC3], Array("é 🧠<|endoftext|>\u{0}".utf8)]
        for _ in 0..<200 { strings.append((0..<Int(rng.next() % 40)).map { _ in UInt8(rng.next() % 256) }) }
        for bytes in strings {
            #expect(try tokenizer.decode(tokenizer.encode(bytes: bytes)) == bytes, "\(bytes)")
        }
    }

    /// The Llama-style tokenizer round-trips UTF-8 text (its normaliser writes spaces as U+2581, so text holding that
    /// character, and bytes that are not UTF-8, come back otherwise, as with the library).
    @Test func byteFallbackRoundTripsText() throws {
        let tokenizer = try Self.tokenizer("llama")
        let alphabet = Array("ab cdé記憶🧠\n\t  xyz,.'\"".unicodeScalars)
        var rng = RandomGenerator(seed: 4)
        for _ in 0..<200 {
            var text = String.UnicodeScalarView()
            for _ in 0..<Int(rng.next() % 30) { text.append(alphabet[Int(rng.next() % UInt64(alphabet.count))]) }
            let sample = String(text)
            #expect(try tokenizer.decode(tokenizer.encode(sample)) == Array(sample.utf8), "\(sample.debugDescription)")
        }
    }

    /// With byte fallback, bytes that are not UTF-8 become their byte tokens and decode back.
    @Test func byteFallbackSpellsInvalidBytes() throws {
        let tokenizer = try Self.tokenizer("llama")
        let bytes: [UInt8] = Array("ab".utf8) + [0xFF] + Array("cd".utf8)
        let ids = tokenizer.encode(bytes: bytes)
        #expect(ids.contains(try #require(tokenizer.model.vocabulary["<0xFF>"])))
        #expect(try tokenizer.decode(ids).contains(0xFF))
    }

    @Test func unsupportedAndDamagedFilesAreRefused() throws {
        func refusal(_ json: String) -> String? {
            do {
                _ = try Tokenizer(json: Data(json.utf8), name: "t")
                return nil
            } catch { return "\(error)" }
        }
        #expect(refusal("[1, 2]")?.contains("not a JSON object") == true)
        #expect(refusal(#"{"model": {"type": "Unigram", "vocab": []}}"#)?.contains("a Unigram model") == true)
        #expect(refusal(#"{"model": {"type": "BPE", "vocab": {"a": 0}, "merges": ["a b"]}}"#)?.contains("not in the vocabulary") == true)
        let bpe = #""model": {"type": "BPE", "vocab": {"a": 0}, "merges": []}"#
        #expect(refusal("{\(bpe), \"normalizer\": {\"type\": \"BertNormalizer\"}}")?.contains("BertNormalizer normalizer") == true)
        #expect(refusal("{\(bpe), \"pre_tokenizer\": {\"type\": \"Split\"}}")?.contains("Split pre-tokenizer") == true)
        #expect(refusal("{\(bpe)}") == nil)
        #expect(refusal(#"{"model": {"type": "BPE", "vocab": {"a": 1073741824}, "merges": []}}"#)?.contains("ids run outside") == true)
        #expect(throws: TokenizerError.unknownID(7, vocabularySize: 1)) { try Tokenizer(json: Data("{\(bpe)}".utf8), name: "t").decode([7]) }
    }
}

/// Training a byte-level BPE: merges worked out by hand, a vocabulary of the size asked, and round trips.
struct BytePairTrainingTests {
    /// "abab abab" is the words "abab" and "Ġabab": (a, b) occurs 4 times, then (ab, ab) twice, then nothing twice.
    @Test func mergesTheMostFrequentPairs() throws {
        let tokenizer = try Tokenizer.trainByteLevel(on: [Array("abab abab".utf8)], vocabularySize: 1000, name: "tiny")
        let layout = try #require(try JSONSerialization.jsonObject(with: tokenizer.json) as? [String: Any])
        let model = try #require(layout["model"] as? [String: Any])
        #expect(model["merges"] as? [[String]] == [["a", "b"], ["ab", "ab"]])
        #expect(tokenizer.vocabularySize == 1 + 256 + 2)
        #expect(tokenizer.encode("abab") == [try #require(tokenizer.model.vocabulary["abab"])])
        #expect(tokenizer.model.vocabulary["<|endoftext|>"] == 0)
    }

    @Test func reachesTheVocabularySizeAndRoundTrips() throws {
        let corpus = (0..<50).map { Array("Sample \($0): the memory learns while it reads, 記憶 \($0 * 7) 🧠.\n".utf8) }
        let tokenizer = try Tokenizer.trainByteLevel(on: corpus, vocabularySize: 300, name: "small")
        #expect(tokenizer.vocabularySize == 300)
        for text in corpus + [Array("unseen text, ümlaut".utf8), [0xFF, 0x00]] {
            #expect(try tokenizer.decode(tokenizer.encode(bytes: text)) == text)
        }
        #expect(tokenizer.encode("the memory learns").count < "the memory learns".utf8.count)
    }

    @Test func aVocabularyWithoutRoomForTheBytesIsRefused() {
        #expect(throws: TokenizerError.vocabularyTooSmall(100, minimum: 257)) {
            try Tokenizer.trainByteLevel(on: [Array("x".utf8)], vocabularySize: 100, name: "t")
        }
    }
}
