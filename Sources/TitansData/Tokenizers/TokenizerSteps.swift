import Foundation

/// The steps around a tokenizer's model, as Hugging Face `tokenizer.json` names them: normalizers rewrite the text,
/// pre-tokenizers cut it into words (and may rewrite them), decoders turn tokens back into bytes.
enum TextNormalizer {
    case prepend(String)
    case replace(String, with: String)
    case unicode(Form)
    case lowercase
    case sequence([TextNormalizer])

    enum Form: String { case nfc = "NFC", nfd = "NFD", nfkc = "NFKC", nfkd = "NFKD" }

    /// `text` normalised; without `prepending`, ``prepend(_:)`` steps are skipped (the text continues another).
    func callAsFunction(_ text: String, prepending: Bool = true) -> String {
        switch self {
        case .prepend(let prefix): return text.isEmpty || !prepending ? text : prefix + text
        case let .replace(pattern, content):  // on UTF-8 bytes: a space before a combining mark is still a space
            return String(decoding: TokenDecoder.replacing(Array(pattern.utf8), with: Array(content.utf8), in: Array(text.utf8)),
                          as: UTF8.self)
        case .unicode(.nfc): return text.precomposedStringWithCanonicalMapping
        case .unicode(.nfd): return text.decomposedStringWithCanonicalMapping
        case .unicode(.nfkc): return text.precomposedStringWithCompatibilityMapping
        case .unicode(.nfkd): return text.decomposedStringWithCompatibilityMapping
        case .lowercase: return text.lowercased()
        case .sequence(let steps): return steps.reduce(text) { $1($0, prepending: prepending) }
        }
    }
}

enum PreTokenizer {
    /// GPT-2's words, each written in the byte alphabet (``ByteLevel``); with `prefixSpace`, a space before a text that
    /// does not start with one.
    case byteLevel(prefixSpace: Bool, useRegex: Bool)
    /// SentencePiece's layout: spaces written as `replacement`, one put before the text (`always`, or `first` for the
    /// text's first piece only), and with `split` the text cut before each `replacement`.
    case metaspace(replacement: Character, prepend: Prepend, split: Bool)
    case sequence([PreTokenizer])

    enum Prepend: String { case always, first, never }

    /// `pieces` (with whether each starts the whole text) cut and rewritten; without `prepending`, nothing is put
    /// before them (the text continues another).
    func callAsFunction(_ pieces: [(text: String, first: Bool)], prepending: Bool = true) -> [(text: String, first: Bool)] {
        switch self {
        case let .byteLevel(prefixSpace, useRegex):
            return pieces.flatMap { piece -> [(text: String, first: Bool)] in
                let text = prepending && prefixSpace && !piece.text.hasPrefix(" ") ? " " + piece.text : piece.text
                let words = useRegex ? ByteLevel.words(text[...]) : [text[...]]
                return words.enumerated().map { (ByteLevel.encode($1.utf8), piece.first && $0 == 0) }
            }
        case let .metaspace(replacement, prepend, split):
            return pieces.flatMap { piece -> [(text: String, first: Bool)] in
                var text = TextNormalizer.replace(" ", with: String(replacement))(piece.text)
                if prepending && !text.hasPrefix(String(replacement)) && (prepend == .always || (prepend == .first && piece.first)) {
                    text = String(replacement) + text
                }
                guard split else { return [(text, piece.first)] }
                // Cut before every replacement, which starts the piece after it.
                var words: [String] = [], current = ""
                for character in text.unicodeScalars {
                    if Character(character) == replacement && !current.isEmpty {
                        words.append(current)
                        current = ""
                    }
                    current.unicodeScalars.append(character)
                }
                if !current.isEmpty { words.append(current) }
                return words.enumerated().map { ($1, piece.first && $0 == 0) }
            }
        case .sequence(let steps):
            return steps.reduce(pieces) { $1($0, prepending: prepending) }
        }
    }
}

enum TokenDecoder {
    /// Each token's characters read back through the byte alphabet.
    case byteLevel
    case replace(String, with: String)
    /// `<0xXX>` tokens become their byte.
    case byteFallback
    /// All tokens joined into one.
    case fuse
    /// Up to `start` copies of `content` removed from each token's start and `stop` from its end.
    case strip(content: Character, start: Int, stop: Int)
    /// `replacement` read as a space, except in the first token when a replacement was put before the text.
    case metaspace(replacement: Character, prepend: PreTokenizer.Prepend)
    case sequence([TokenDecoder])

    /// `tokens` (each token's bytes) rewritten.
    func callAsFunction(_ tokens: [[UInt8]]) -> [[UInt8]] {
        switch self {
        case .byteLevel:
            return tokens.map(ByteLevel.decode)
        case let .replace(pattern, content):
            return tokens.map { Self.replacing(Array(pattern.utf8), with: Array(content.utf8), in: $0) }
        case .byteFallback:  // a run of byte tokens becomes one token of its bytes (kept as they are, valid UTF-8 or not)
            var out: [[UInt8]] = [], run: [UInt8] = []
            for token in tokens {
                if token.count == 6, token.starts(with: Array("<0x".utf8)), token.last == UInt8(ascii: ">"),
                   let byte = UInt8(String(decoding: token[3..<5], as: UTF8.self), radix: 16) {
                    run.append(byte)
                    continue
                }
                if !run.isEmpty { out.append(run) }
                run = []
                out.append(token)
            }
            return run.isEmpty ? out : out + [run]
        case .fuse:
            return [tokens.flatMap { $0 }]
        case let .strip(content, start, stop):
            let unit = Array(String(content).utf8)
            return tokens.map { token in
                var slice = token[...]
                for _ in 0..<start where slice.starts(with: unit) { slice = slice.dropFirst(unit.count) }
                for _ in 0..<stop where slice.reversed().starts(with: unit.reversed()) { slice = slice.dropLast(unit.count) }
                return Array(slice)
            }
        case let .metaspace(replacement, prepend):  // in the first token every replacement goes, as the prepended one
            let marker = Array(String(replacement).utf8)
            return tokens.enumerated().map { index, token in
                Self.replacing(marker, with: index == 0 && prepend != .never ? [] : [UInt8(ascii: " ")], in: token)
            }
        case .sequence(let steps):
            return steps.reduce(tokens) { $1($0) }
        }
    }

    static func replacing(_ pattern: [UInt8], with content: [UInt8], in bytes: [UInt8]) -> [UInt8] {
        guard !pattern.isEmpty, bytes.count >= pattern.count else { return bytes }
        var out: [UInt8] = [], i = 0
        out.reserveCapacity(bytes.count)
        while i < bytes.count {
            if i + pattern.count <= bytes.count && bytes[i..<(i + pattern.count)].elementsEqual(pattern) {
                out += content
                i += pattern.count
            } else {
                out.append(bytes[i])
                i += 1
            }
        }
        return out
    }
}
