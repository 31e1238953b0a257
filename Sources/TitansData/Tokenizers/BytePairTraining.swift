import Foundation

/// How often each word occurs in a corpus, as the byte-level pre-tokenizer cuts it: what training a byte-level BPE
/// reads, gathered a piece of text at a time so a corpus need not fit in memory.
///
/// ```swift
/// var counts = ByteLevelWordCounts()
/// counts.add(Array("the memory learns while it reads".utf8))
/// let tokenizer = try Tokenizer.trainByteLevel(counts: counts, vocabularySize: 300, name: "tiny")
/// ```
public struct ByteLevelWordCounts: Sendable {
    var counts: [String: Int] = [:]

    public init() {}

    /// Counts the words of `text` (a piece of a corpus, best cut at a line end).
    public mutating func add(_ text: [UInt8]) {
        for word in Tokenizer.byteLevelWords(text) { counts[word, default: 0] += 1 }
    }

    /// Distinct words seen.
    public var distinctWords: Int { counts.count }
}

extension Tokenizer {
    /// ``trainByteLevel(counts:vocabularySize:name:specialTokens:)`` over the words of `texts`.
    public static func trainByteLevel<Texts: Sequence<[UInt8]>>(on texts: Texts, vocabularySize: Int, name: String,
                                                                specialTokens: [String] = ["<|endoftext|>"]) throws -> Tokenizer {
        var counts = ByteLevelWordCounts()
        for text in texts { counts.add(text) }
        return try trainByteLevel(counts: counts, vocabularySize: vocabularySize, name: name, specialTokens: specialTokens)
    }

    /// Learns a byte-level BPE (GPT-2's layout: `ByteLevel` words, the 256 byte characters as the first tokens after
    /// `specialTokens`) from a corpus's word counts: the most frequent adjacent pair of tokens over all words (weighted
    /// by how often each word occurs) is merged into a new token, again until the vocabulary has `vocabularySize`
    /// tokens or no pair occurs twice; ties go to the pair of smaller ids. The result is a Hugging Face
    /// `tokenizer.json`, so the `tokenizers` library reads it too.
    public static func trainByteLevel(counts: ByteLevelWordCounts, vocabularySize: Int, name: String,
                                      specialTokens: [String] = ["<|endoftext|>"]) throws -> Tokenizer {
        let alphabet = ByteLevel.characters.map { String($0) }
        guard vocabularySize >= specialTokens.count + alphabet.count else {
            throw TokenizerError.vocabularyTooSmall(vocabularySize, minimum: specialTokens.count + alphabet.count)
        }
        var tokens = specialTokens + alphabet
        var ids = Dictionary(tokens.enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
        var training = PairCounts(words: counts.counts.sorted { $0.key < $1.key }.map { word, count in
            (symbols: word.unicodeScalars.map { ids[String($0)] ?? 0 }, count: count)
        })
        var merges: [[String]] = []
        while tokens.count < vocabularySize, let pair = training.mostFrequent() {
            let merged = tokens[pair.left] + tokens[pair.right]
            let id = ids[merged] ?? tokens.count
            if id == tokens.count {
                tokens.append(merged)
                ids[merged] = id
            }
            merges.append([tokens[pair.left], tokens[pair.right]])
            training.merge(pair, into: id)
        }
        let json = try layout(specialTokens: specialTokens, vocabulary: ids, merges: merges)
        return try Tokenizer(json: json, name: name)
    }

    /// A text's words as the byte-level pre-tokenizer cuts them, each in the byte alphabet; a byte that is not part of
    /// valid UTF-8 is a word of its own (as ``encode(bytes:)`` treats it).
    static func byteLevelWords(_ bytes: [UInt8]) -> [String] {
        var words: [String] = [], start = 0, i = 0
        func flush(_ end: Int) {
            if end > start { words += ByteLevel.words(String(decoding: bytes[start..<end], as: UTF8.self)[...]).map { ByteLevel.encode($0.utf8) } }
        }
        while i < bytes.count {
            if let length = validScalarLength(bytes, at: i) {
                i += length
            } else {
                flush(i)
                words.append(ByteLevel.encode([bytes[i]]))
                i += 1
                start = i
            }
        }
        flush(bytes.count)
        return words
    }

    /// The `tokenizer.json` of a trained byte-level BPE.
    private static func layout(specialTokens: [String], vocabulary: [String: Int], merges: [[String]]) throws -> Data {
        let byteLevel: [String: Any] = ["type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": true]
        let added = specialTokens.compactMap { token in vocabulary[token].map { id in
            ["id": id, "content": token, "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true] as [String: Any]
        } }
        let root: [String: Any] = [
            "version": "1.0", "truncation": NSNull(), "padding": NSNull(), "added_tokens": added, "normalizer": NSNull(),
            "pre_tokenizer": byteLevel, "post_processor": NSNull(), "decoder": byteLevel,
            "model": ["type": "BPE", "dropout": NSNull(), "unk_token": NSNull(), "continuing_subword_prefix": NSNull(),
                      "end_of_word_suffix": NSNull(), "fuse_unk": false, "byte_fallback": false, "ignore_merges": false,
                      "vocab": vocabulary, "merges": merges] as [String: Any],
        ]
        return try JSONSerialization.data(withJSONObject: root, options: [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes])
    }
}

/// The counts of adjacent token pairs over a corpus of distinct words (each with how often it occurs), kept up to date
/// as pairs are merged: a merge rewrites only the words holding the pair, and changes the counts of its neighbours.
struct PairCounts {
    private var words: [(symbols: [Int], count: Int)]
    private var counts: [BytePairModel.Pair: Int] = [:]
    /// The words each pair occurs in.
    private var occurrences: [BytePairModel.Pair: Set<Int>] = [:]
    /// Pairs by count, most frequent on top (smaller ids first among equals); an entry whose count has changed since it
    /// was pushed is refreshed when it comes up.
    private var heap = BinaryHeap<Entry>()

    /// A pair and its count when pushed; the heap's smallest is the most frequent, then the smaller ids.
    private struct Entry: Comparable {
        let count: Int
        let pair: BytePairModel.Pair

        static func < (a: Entry, b: Entry) -> Bool {
            (a.count, -a.pair.left, -a.pair.right) > (b.count, -b.pair.left, -b.pair.right)
        }
    }

    init(words: [(symbols: [Int], count: Int)]) {
        self.words = words
        for (index, word) in words.enumerated() {
            for (left, right) in zip(word.symbols, word.symbols.dropFirst()) {
                let pair = BytePairModel.Pair(left: left, right: right)
                counts[pair, default: 0] += word.count
                occurrences[pair, default: []].insert(index)
            }
        }
        for (pair, count) in counts { heap.push(Entry(count: count, pair: pair)) }
    }

    /// The pair to merge next: the most frequent (occurring at least twice), the smaller ids on ties.
    mutating func mostFrequent() -> BytePairModel.Pair? {
        while let top = heap.pop() {
            let current = counts[top.pair] ?? 0
            if current == top.count { return current >= 2 ? top.pair : nil }
            if current > 0 { heap.push(Entry(count: current, pair: top.pair)) }
        }
        return nil
    }

    /// Replaces every occurrence of `pair` (left to right, not overlapping) by `id`.
    mutating func merge(_ pair: BytePairModel.Pair, into id: Int) {
        var changed = Set<BytePairModel.Pair>()
        func add(_ left: Int, _ right: Int, _ amount: Int, _ word: Int) {
            let p = BytePairModel.Pair(left: left, right: right)
            counts[p, default: 0] += amount
            if amount > 0 { occurrences[p, default: []].insert(word) }
            changed.insert(p)
        }
        for index in occurrences[pair] ?? [] {
            var symbols = words[index].symbols
            let count = words[index].count
            var i = 0
            while i < symbols.count - 1 {
                guard symbols[i] == pair.left && symbols[i + 1] == pair.right else {
                    i += 1
                    continue
                }
                if i > 0 {
                    add(symbols[i - 1], pair.left, -count, index)
                    add(symbols[i - 1], id, count, index)
                }
                if i + 2 < symbols.count {
                    add(pair.right, symbols[i + 2], -count, index)
                    add(id, symbols[i + 2], count, index)
                }
                counts[pair, default: 0] -= count
                symbols.replaceSubrange(i...(i + 1), with: [id])
                i += 1
            }
            words[index].symbols = symbols
        }
        counts[pair] = nil
        occurrences[pair] = nil
        for p in changed where p != pair && counts[p] ?? 0 > 0 { heap.push(Entry(count: counts[p] ?? 0, pair: p)) }
    }
}
