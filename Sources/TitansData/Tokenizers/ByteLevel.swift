/// GPT-2's byte-level alphabet and pre-tokenizer (as Hugging Face `tokenizers` implements `ByteLevel`): every byte is
/// written as one printable character, so any byte string is a string of the alphabet and a byte-level BPE never meets
/// an unknown symbol; and text is first cut into words by GPT-2's pattern
/// `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`.
enum ByteLevel {
    /// The character each byte is written as: the printable bytes (33–126, 161–172, 174–255) as themselves, the other 68
    /// as U+0100 upwards in byte order.
    static let characters: [Unicode.Scalar] = {
        var table = [Unicode.Scalar](repeating: "\0", count: 256)
        var next: UInt32 = 256
        for byte in 0..<256 {
            if (33...126).contains(byte) || (161...172).contains(byte) || (174...255).contains(byte) {
                table[byte] = Unicode.Scalar(UInt8(byte))
            } else {
                table[byte] = Unicode.Scalar(next) ?? "\0"  // 256…323, all valid scalars
                next += 1
            }
        }
        return table
    }()

    /// The byte each character of the alphabet stands for.
    static let bytes: [Unicode.Scalar: UInt8] = Dictionary(uniqueKeysWithValues: characters.enumerated().map { ($1, UInt8($0)) })

    /// `bytes` written in the alphabet.
    static func encode<S: Sequence<UInt8>>(_ bytes: S) -> String {
        var text = String.UnicodeScalarView()
        for byte in bytes { text.append(characters[Int(byte)]) }
        return String(text)
    }

    /// The bytes a token written in the alphabet stands for; a token with a character outside it (an added token) stands
    /// for its own UTF-8 bytes.
    static func decode(_ token: [UInt8]) -> [UInt8] {
        var bytes: [UInt8] = []
        for scalar in String(decoding: token, as: UTF8.self).unicodeScalars {
            guard let byte = Self.bytes[scalar] else { return token }
            bytes.append(byte)
        }
        return bytes
    }

    /// `text` cut into GPT-2's words: each match of the pattern, in order (the matches cover the whole text).
    static func words(_ text: Substring) -> [Substring] {
        let scalars = Array(text.unicodeScalars)
        var indices: [String.Index] = []
        indices.reserveCapacity(scalars.count + 1)
        var index = text.startIndex
        for _ in scalars {
            indices.append(index)
            index = text.unicodeScalars.index(after: index)
        }
        indices.append(text.endIndex)
        let classes = scalars.map(classify)
        var words: [Substring] = []
        var i = 0
        while i < scalars.count {
            let end = match(scalars, classes, at: i)
            words.append(text[indices[i]..<indices[end]])
            i = end
        }
        return words
    }

    /// Where the pattern's match at `i` ends: its alternatives tried in order, as a backtracking matcher does
    /// (`classes[j]` is the class of `s[j]`).
    private static func match(_ s: [Unicode.Scalar], _ classes: [Class], at i: Int) -> Int {
        let n = s.count
        // 's 't 're 've 'm 'll 'd
        if s[i] == "'" && i + 1 < n {
            for suffix in ["s", "t", "re", "ve", "m", "ll", "d"] {
                let tail = Array(suffix.unicodeScalars)
                if i + 1 + tail.count <= n, Array(s[(i + 1)..<(i + 1 + tail.count)]) == tail { return i + 1 + tail.count }
            }
        }
        // ` ?\p{L}+`, ` ?\p{N}+`, ` ?[^\s\p{L}\p{N}]+`: a character has one class, so the first character after the
        // optional space picks the alternative; the run of that class is the match.
        let from = s[i] == " " && i + 1 < n && classes[i + 1] != .space ? i + 1 : i
        if classes[from] != .space {
            var end = from
            while end < n && classes[end] == classes[from] { end += 1 }
            return end
        }
        // `\s+(?!\S)`: the whitespace run, less its last character when a non-space follows; else `\s+`.
        var end = i
        while end < n && classes[end] == .space { end += 1 }
        if end < n && end - i > 1 { return end - 1 }
        return end
    }

    /// The pattern's classes of a character: `\s`, `\p{L}`, `\p{N}`, or none of them.
    enum Class: UInt8 { case space, letter, number, other }

    static func classify(_ c: Unicode.Scalar) -> Class {
        if c.value < 128 { return asciiClasses[Int(c.value)] }
        return slowClassify(c)
    }

    private static func slowClassify(_ c: Unicode.Scalar) -> Class {
        if c.properties.isWhitespace { return .space }
        switch c.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter: return .letter
        case .decimalNumber, .letterNumber, .otherNumber: return .number
        default: return .other
        }
    }

    /// The classes of ASCII, looked up instead of asking Unicode's tables (most text is ASCII).
    private static let asciiClasses: [Class] = (0..<128).map { slowClassify(Unicode.Scalar(UInt8($0))) }

}
