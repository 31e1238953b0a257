import Foundation

/// A subword tokenizer: byte-pair encoding as Hugging Face `tokenizers` runs it, read from its `tokenizer.json` —
/// byte-level BPE as in GPT-2, and BPE with byte fallback as in the Llama family — or trained here
/// (``trainByteLevel(on:vocabularySize:name:specialTokens:)``).
///
/// ```swift
/// let tokenizer = try Tokenizer.load(from: URL(fileURLWithPath: "tokenizer.json"))
/// let ids = tokenizer.encode("The memory learns while it reads.")
/// let text = String(decoding: try tokenizer.decode(ids), as: UTF8.self)
/// ```
///
/// Encoding follows the library step for step: added tokens are cut out of the text first (leftmost, longest), each
/// stretch between them is normalised, cut into words by the pre-tokenizer and encoded word by word by the model.
/// Decoding gives bytes (a byte-level or byte-fallback tokenizer can spell any byte string); where the library would
/// print U+FFFD for bytes that are not UTF-8, they are returned as they are.
public struct Tokenizer: Sendable {
    /// What the tokenizer is called (its file's name without the extension, or the name it was trained under).
    public let name: String
    /// A CRC-32 of its `tokenizer.json`, so a token file can tell whether it was made by this tokenizer.
    public let fingerprint: UInt32
    /// One more than the largest id.
    public let vocabularySize: Int
    /// The file it was read from, as JSON (written back unchanged by ``write(to:)``).
    public let json: Data

    let normalizer: TextNormalizer?
    let preTokenizer: PreTokenizer?
    let model: BytePairModel
    let decoder: TokenDecoder?
    /// Added tokens by their first UTF-8 byte, longest first.
    let addedTokens: [UInt8: [(bytes: [UInt8], id: Int)]]
    /// Id → token text.
    let tokens: [Int: String]
    /// The token that ends a document, when the tokenizer has one by a usual name (`<|endoftext|>`, `</s>`, …): put
    /// between documents in token files.
    public let separator: Int?
    static let separatorNames = ["<|endoftext|>", "</s>", "<|end_of_text|>", "<eos>", "<|eos|>"]

    /// The largest vocabulary read (2²⁴; real ones reach a few hundred thousand): a model has a row per token.
    public static let largestVocabulary = 1 << 24

    /// Reads a `tokenizer.json`; a file of another kind, or using a step this package does not implement, is refused
    /// with a message naming it.
    public static func load(from url: URL) throws -> Tokenizer {
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw TokenizerError.unreadable(path: url.path, reason: (error as NSError).localizedDescription)
        }
        return try Tokenizer(json: data, name: url.deletingPathExtension().lastPathComponent, path: url.path)
    }

    /// A tokenizer from the contents of a `tokenizer.json`; `path` names it in errors.
    public init(json: Data, name: String, path: String = "tokenizer.json") throws {
        let file = TokenizerFile(path: path)
        guard let root = (try? JSONSerialization.jsonObject(with: json)) as? [String: Any] else {
            throw TokenizerError.notATokenizer(path: path, reason: "it is not a JSON object")
        }
        guard let model = root["model"] as? [String: Any] else {
            throw TokenizerError.notATokenizer(path: path, reason: "it has no \"model\"")
        }
        self.model = try file.model(model)
        normalizer = try file.normalizer(root["normalizer"])
        preTokenizer = try file.preTokenizer(root["pre_tokenizer"])
        decoder = try file.decoder(root["decoder"])
        let added = try file.addedTokens(root["added_tokens"])
        var byFirstByte: [UInt8: [(bytes: [UInt8], id: Int)]] = [:]
        for token in added where !token.content.isEmpty {
            byFirstByte[token.content.utf8.first ?? 0, default: []].append((Array(token.content.utf8), token.id))
        }
        addedTokens = byFirstByte.mapValues { $0.sorted { $0.bytes.count > $1.bytes.count } }
        var tokens = Dictionary(self.model.vocabulary.map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
        for token in added { tokens[token.id] = token.content }
        self.tokens = tokens
        let byContent = Dictionary(added.map { ($0.content, $0.id) }, uniquingKeysWith: { first, _ in first })
        separator = Self.separatorNames.lazy.compactMap { byContent[$0] }.first
        vocabularySize = (tokens.keys.max() ?? -1) + 1
        guard tokens.keys.allSatisfy({ $0 >= 0 }), vocabularySize <= Self.largestVocabulary else {
            throw TokenizerError.notATokenizer(path: path, reason: "its ids run outside 0–\(Self.largestVocabulary - 1)")
        }
        self.name = name
        self.json = json
        var crc = CRC32()
        crc.update(Array(json))
        fingerprint = crc.value
    }

    /// The ids of `text`, without a beginning-of-sequence or other template tokens.
    public func encode(_ text: String) -> [Int] { encode(bytes: Array(text.utf8)) }

    /// The ids of any byte string: as ``encode(_:)`` for UTF-8 text; a byte that is not part of valid UTF-8 stands
    /// alone (between the stretches around it, like an added token) as its byte-alphabet character (byte-level), its
    /// `<0xXX>` token (byte fallback) or the unknown token.
    ///
    /// With `continuing`, the bytes continue a text encoded before (the next piece of a long document): nothing that
    /// marks the start of a text (a prepended `▁`) is put before them.
    public func encode(bytes: [UInt8], continuing: Bool = false) -> [Int] {
        var ids: [Int] = []
        var stretchStart = 0, i = 0
        var cache: [Substring: [Int]] = [:]  // words recur: each is encoded once per call
        func flush(upTo end: Int) {
            guard end > stretchStart else { return }
            let continues = continuing && stretchStart == 0
            ids += encodeStretch(bytes[stretchStart..<end], first: stretchStart == 0 && !continuing, continues: continues, cache: &cache)
        }
        while i < bytes.count {
            if let match = addedToken(in: bytes, at: i) {
                flush(upTo: i)
                ids.append(match.id)
                i += match.length
                stretchStart = i
            } else if let length = Self.validScalarLength(bytes, at: i) {
                i += length
            } else {
                flush(upTo: i)
                ids += encodeInvalidByte(bytes[i])
                i += 1
                stretchStart = i
            }
        }
        flush(upTo: bytes.count)
        return ids
    }

    /// The bytes of `ids`, through the decoder; an id outside the vocabulary is an error.
    public func decode(_ ids: [Int]) throws -> [UInt8] {
        let pieces = try ids.map { id -> [UInt8] in
            guard let token = tokens[id] else { throw TokenizerError.unknownID(id, vocabularySize: vocabularySize) }
            return Array(token.utf8)
        }
        return (decoder.map { $0(pieces) } ?? pieces).flatMap { $0 }
    }

    /// Writes the tokenizer's JSON to `url` (atomically).
    public func write(to url: URL) throws { try json.write(to: url, options: .atomic) }

    // MARK: - Steps

    private func encodeStretch(_ bytes: ArraySlice<UInt8>, first: Bool, continues: Bool, cache: inout [Substring: [Int]]) -> [Int] {
        let text = String(decoding: bytes, as: UTF8.self)
        let normalized = normalizer.map { $0(text, prepending: !continues) } ?? text
        guard let preTokenizer else { return normalized.isEmpty ? [] : model.encode(normalized[...]) }
        var ids: [Int] = []
        for piece in preTokenizer([(normalized, first)], prepending: !continues) where !piece.text.isEmpty {
            let word = piece.text[...]
            if let known = cache[word] {
                ids += known
            } else {
                let encoded = model.encode(word)
                if cache.count < Self.wordCacheLimit { cache[word] = encoded }
                ids += encoded
            }
        }
        return ids
    }

    /// Distinct words remembered per ``encode(bytes:)`` call.
    static let wordCacheLimit = 1 << 16

    private func encodeInvalidByte(_ byte: UInt8) -> [Int] {
        if case .byteLevel = preTokenizer { return model.encode(ByteLevel.encode([byte])[...]) }
        if case .sequence(let steps) = preTokenizer, steps.contains(where: { if case .byteLevel = $0 { true } else { false } }) {
            return model.encode(ByteLevel.encode([byte])[...])
        }
        if model.byteFallback, let id = model.vocabulary[BytePairModel.byteToken(byte)] { return [id] }
        return model.unknown.map { [$0] } ?? []
    }

    /// The longest added token starting at `i`.
    private func addedToken(in bytes: [UInt8], at i: Int) -> (id: Int, length: Int)? {
        guard let candidates = addedTokens[bytes[i]] else { return nil }
        for candidate in candidates where i + candidate.bytes.count <= bytes.count
            && bytes[i..<(i + candidate.bytes.count)].elementsEqual(candidate.bytes) {
            return (candidate.id, candidate.bytes.count)
        }
        return nil
    }

    /// The length of the UTF-8 encoding of one scalar at `i`, or nil where the bytes are not valid UTF-8.
    static func validScalarLength(_ bytes: [UInt8], at i: Int) -> Int? {
        let lead = bytes[i]
        let length: Int
        switch lead {
        case 0x00...0x7F: return 1
        case 0xC2...0xDF: length = 2
        case 0xE0...0xEF: length = 3
        case 0xF0...0xF4: length = 4
        default: return nil
        }
        guard i + length <= bytes.count else { return nil }
        var decoder = UTF8()
        var iterator = bytes[i..<(i + length)].makeIterator()
        if case .scalarValue = decoder.decode(&iterator) { return length }
        return nil
    }
}

/// Why a tokenizer cannot be read or used. Each message says what to do.
///
/// ```swift
/// do { _ = try Tokenizer.load(from: url) } catch let error as TokenizerError { print(error) }   // says what to do
/// ```
public enum TokenizerError: Error, CustomStringConvertible, Equatable {
    case unreadable(path: String, reason: String)
    case notATokenizer(path: String, reason: String)
    case unsupported(path: String, what: String)
    case unknownID(Int, vocabularySize: Int)
    case vocabularyTooSmall(Int, minimum: Int)

    public var description: String {
        switch self {
        case let .unreadable(path, reason):
            return "cannot read the tokenizer \(path) (\(reason)); check the path"
        case let .notATokenizer(path, reason):
            return "\(path) is not a Hugging Face tokenizer.json (\(reason)); pass a tokenizer.json, or make one with `titans tokenizer train`"
        case let .unsupported(path, what):
            return "\(path) uses \(what), which this package does not implement; it reads BPE tokenizers "
                + "(byte-level as in GPT-2, or with byte fallback as in Llama); train one with `titans tokenizer train`"
        case let .unknownID(id, size):
            return "token id \(id) is not in the tokenizer's vocabulary (ids 0–\(size - 1)); were these ids made by another tokenizer?"
        case let .vocabularyTooSmall(size, minimum):
            return "a vocabulary of \(size) cannot hold the 256 bytes and the special tokens; give at least \(minimum)"
        }
    }
}
