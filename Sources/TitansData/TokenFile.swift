import Foundation

/// A corpus as token ids (`titans data prepare`), read memory-mapped so a corpus larger than memory trains without
/// being loaded. Layout, little-endian:
///
///     [8]     "TITANSTK"
///     [4]     format version (1)
///     [4]     H, the header's length
///     [H]     the header, JSON (``TokenFile/Header``), padded with spaces so the tokens start at byte 4096
///     [n·w]   the tokens, each an unsigned integer of w = 2 or 4 bytes (``Header/elementBytes``)
///     [d·8]   where each document ends: the token offset after its last token (and its separator), as UInt64
///     [t]     the tokenizer's tokenizer.json, so a model trained on the file can encode and decode text
///
/// The header names the tokenizer (its name and fingerprint) and says where the held-out tokens start.
///
/// ```swift
/// let tokenizer = try Tokenizer.load(from: URL(fileURLWithPath: "tokenizer.json"))
/// try TokenFile.prepare(.text(try TextCorpus(path: "corpus/")), tokenizer: tokenizer, validationFraction: 0.01,
///                       to: URL(fileURLWithPath: "corpus.tokens"))
/// let file = try TokenFile(contentsOf: URL(fileURLWithPath: "corpus.tokens"))
/// let first = file.tokens(0..<16)
/// ```
public struct TokenFile: Sendable {
    /// What a token file says of itself: its tokenizer, sizes and split.
    ///
    /// ```swift
    /// let header = try TokenFile(contentsOf: url).header
    /// print(header.tokenizer, header.tokens, header.tokens - header.validationStart)   // held-out tokens
    /// ```
    public struct Header: Codable, Equatable, Sendable {
        public var tokenizer: String
        /// ``Tokenizer/fingerprint`` of the tokenizer that made the file, in hex.
        public var fingerprint: String
        public var vocabularySize: Int
        public var elementBytes: Int
        public var tokens: Int
        public var documents: Int
        /// Tokens before this offset are for training, the rest held out.
        public var validationStart: Int
        /// Bytes of text the held-out tokens decode to, for bits per byte.
        public var validationBytes: Int
        /// The token put after each document, if the tokenizer has one (``Tokenizer/separator``).
        public var separator: Int?
        /// Length of the tokenizer's JSON at the end of the file.
        public var tokenizerBytes: Int

        enum CodingKeys: String, CodingKey {
            case tokenizer, fingerprint, tokens, documents, separator
            case vocabularySize = "vocabulary_size", elementBytes = "element_bytes", validationStart = "validation_start"
            case validationBytes = "validation_bytes", tokenizerBytes = "tokenizer_bytes"
        }
    }

    static let magic = Array("TITANSTK".utf8)
    static let version: UInt32 = 1
    /// Where the tokens start: the header's room.
    static let tokensOffset = 4096

    public let header: Header
    public let url: URL
    private let data: Data

    /// Maps the file at `url`; a file that is not a token file, or shorter than its header says, is refused.
    public init(contentsOf url: URL) throws {
        let data: Data
        do {
            data = try Data(contentsOf: url, options: .alwaysMapped)
        } catch {
            throw TokenFileError.unreadable(path: url.path, reason: (error as NSError).localizedDescription)
        }
        try self.init(data: data, url: url)
    }

    /// A token file's bytes, checked as ``init(contentsOf:)`` checks a file; `url` names it in errors.
    public init(data: Data, url: URL) throws {
        let path = url.path
        self.data = data
        self.url = url
        guard data.count >= 16, Array(data.prefix(8)) == Self.magic else { throw TokenFileError.notATokenFile(path: path) }
        let version = data.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 8, as: UInt32.self).littleEndian }
        guard version == Self.version else { throw TokenFileError.unsupportedVersion(path: path, version: Int(version)) }
        let length = Int(data.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 12, as: UInt32.self).littleEndian })
        guard 16 + length <= Self.tokensOffset, data.count >= Self.tokensOffset,
              let header = try? JSONDecoder().decode(Header.self, from: data.subdata(in: 16..<(16 + length))) else {
            throw TokenFileError.damaged(path: path, reason: "its header cannot be read")
        }
        guard [2, 4].contains(header.elementBytes), header.tokens >= 0, header.documents >= 0,
              (0...header.tokens).contains(header.validationStart), header.vocabularySize >= 1,
              header.vocabularySize <= (header.elementBytes == 2 ? 1 << 16 : Int(UInt32.max)) else {
            throw TokenFileError.damaged(path: path, reason: "its header holds impossible values")
        }
        // Every count is bounded by the file's size before any product is formed.
        guard header.tokens <= data.count, header.documents <= data.count, (0...data.count).contains(header.tokenizerBytes),
              header.vocabularySize <= Tokenizer.largestVocabulary else {
            throw TokenFileError.damaged(path: path, reason: "its header holds impossible values")
        }
        let expected = Self.tokensOffset + header.tokens * header.elementBytes + header.documents * 8 + header.tokenizerBytes
        guard data.count == expected else {
            throw TokenFileError.damaged(path: path, reason: "it holds \(data.count) bytes, but its header describes \(expected)")
        }
        self.header = header
        let ends = documentEnds
        guard zip(ends, ends.dropFirst()).allSatisfy({ $0 <= $1 }), ends.allSatisfy({ (0...header.tokens).contains($0) }) else {
            throw TokenFileError.damaged(path: path, reason: "its document ends are not increasing offsets into its tokens")
        }
    }

    /// The tokenizer that made the file.
    public func tokenizer() throws -> Tokenizer {
        let start = data.count - header.tokenizerBytes
        do {
            return try Tokenizer(json: data.subdata(in: start..<data.count), name: header.tokenizer, path: url.path + " (its tokenizer)")
        } catch {
            throw TokenFileError.damaged(path: url.path, reason: "its tokenizer cannot be read: \(error)")
        }
    }

    /// Token `i`.
    @inline(__always)
    public subscript(i: Int) -> Int {
        data.withUnsafeBytes { Self.token($0, at: Self.tokensOffset + i * header.elementBytes, width: header.elementBytes) }
    }

    /// The token stored at byte `offset` of `raw` as a little-endian integer of `width` (2 or 4) bytes.
    @inline(__always)
    static func token(_ raw: UnsafeRawBufferPointer, at offset: Int, width: Int) -> Int {
        width == 2 ? Int(raw.loadUnaligned(fromByteOffset: offset, as: UInt16.self).littleEndian)
            : Int(raw.loadUnaligned(fromByteOffset: offset, as: UInt32.self).littleEndian)
    }

    /// The first token at or above the vocabulary's size, if any (a file damaged inside its tokens).
    func firstTokenOutsideVocabulary() -> Int? {
        data.withUnsafeBytes { raw in
            let width = header.elementBytes
            return (0..<header.tokens).first { Self.token(raw, at: Self.tokensOffset + width * $0, width: width) >= header.vocabularySize }
        }
    }

    /// Tokens `range`.
    public func tokens(_ range: Range<Int>) -> [Int] { range.map { self[$0] } }

    /// Where each document ends (a token offset).
    public var documentEnds: [Int] {
        let start = Self.tokensOffset + header.tokens * header.elementBytes
        return (0..<header.documents).map { d in
            Int(clamping: data.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: start + 8 * d, as: UInt64.self).littleEndian })
        }
    }
}

/// Why a token file cannot be read or used. Each message says what to do.
///
/// ```swift
/// do { _ = try TokenDataset(contentsOf: url, minimumLength: 512) } catch let error as TokenFileError { print(error) }   // says what to do
/// ```
public enum TokenFileError: Error, CustomStringConvertible, Equatable {
    case unreadable(path: String, reason: String)
    case notATokenFile(path: String)
    case unsupportedVersion(path: String, version: Int)
    case damaged(path: String, reason: String)
    case otherTokenizer(path: String, file: String, expected: String)
    case tooShort(path: String, split: String, tokens: Int, needed: Int)
    case badRecord(path: String, line: Int, reason: String)

    public var description: String {
        switch self {
        case let .unreadable(path, reason): return "cannot read \(path) (\(reason)); check the path"
        case .notATokenFile(let path):
            return "\(path) is not a token file; make one with `titans data prepare` (or train on bytes with --data)"
        case let .unsupportedVersion(path, version):
            return "\(path) is a token file of version \(version), which this version cannot read; prepare it again"
        case let .damaged(path, reason):
            return "\(path) is damaged (\(reason)); prepare it again with `titans data prepare`"
        case let .otherTokenizer(path, file, expected):
            return "\(path) was made by the tokenizer \(file), but the model uses \(expected); prepare the data with the model's tokenizer"
        case let .badRecord(path, line, reason):
            return "line \(line) of \(path) cannot be used: \(reason)"
        case let .tooShort(path, split, tokens, needed):
            return "the \(split) tokens of \(path) number \(tokens), too few for a window of \(needed); use a shorter "
                + "--sequence-length, a smaller --validation-fraction when preparing, or more text"
        }
    }
}
