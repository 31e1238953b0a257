/// A byte-pair-encoding model (Sennrich et al. 2016, as Hugging Face `tokenizers` runs it): a word starts as one
/// symbol per character — or, with byte fallback, per UTF-8 byte (`<0xE8>`) for a character not in the vocabulary —
/// and the adjacent pair whose merge was learned earliest is merged, again and again, leftmost first among equals,
/// until no learned merge applies.
struct BytePairModel {
    /// Token → id.
    let vocabulary: [String: Int]
    /// (left id, right id) → (rank: the merge's order, the merged token's id).
    let merges: [Pair: (rank: Int, id: Int)]
    /// The id of unknown characters (without byte fallback), if any.
    let unknown: Int?
    /// Merge consecutive unknown characters into one unknown token.
    let fuseUnknown: Bool
    /// Spell unknown characters by their UTF-8 bytes as `<0xXX>` tokens.
    let byteFallback: Bool
    /// A word that is itself a token is that token, without merges (`ignore_merges`).
    let ignoreMerges: Bool

    struct Pair: Hashable {
        let left: Int
        let right: Int
    }

    /// The ids of the tokens that are one character (looked up without making a string).
    let characters: [Unicode.Scalar: Int]

    init(vocabulary: [String: Int], merges: [Pair: (rank: Int, id: Int)], unknown: Int?, fuseUnknown: Bool,
         byteFallback: Bool, ignoreMerges: Bool) {
        (self.vocabulary, self.merges, self.unknown) = (vocabulary, merges, unknown)
        (self.fuseUnknown, self.byteFallback, self.ignoreMerges) = (fuseUnknown, byteFallback, ignoreMerges)
        var characters: [Unicode.Scalar: Int] = [:]
        for (token, id) in vocabulary where token.unicodeScalars.count == 1 {
            if let scalar = token.unicodeScalars.first { characters[scalar] = id }
        }
        self.characters = characters
    }

    /// The ids of `word`.
    func encode(_ word: Substring) -> [Int] {
        if ignoreMerges, let id = vocabulary[String(word)] { return [id] }
        var symbols: [Int] = []
        symbols.reserveCapacity(word.utf8.count)
        var lastWasUnknown = false
        for scalar in word.unicodeScalars {
            if let id = characters[scalar] {
                symbols.append(id)
                lastWasUnknown = false
                continue
            }
            let character = String(scalar)
            if let id = vocabulary[character] {
                symbols.append(id)
                lastWasUnknown = false
            } else if byteFallback, let bytes = Optional(character.utf8.map { vocabulary[Self.byteToken($0)] }),
                      !bytes.contains(nil) {
                symbols += bytes.compactMap { $0 }
                lastWasUnknown = false
            } else if let unknown {
                if !(fuseUnknown && lastWasUnknown) { symbols.append(unknown) }
                lastWasUnknown = true
            }
        }
        return merged(symbols)
    }

    /// `<0xE8>`: the token of one byte under byte fallback.
    static func byteToken(_ byte: UInt8) -> String {
        let digits = String(byte, radix: 16, uppercase: true)
        return "<0x" + (digits.count == 1 ? "0" : "") + digits + ">"
    }

    /// `symbols` with the learned merges applied: a heap of candidate merges ordered by rank, then position; a
    /// candidate whose symbols have changed since it was queued is skipped.
    private func merged(_ symbols: [Int]) -> [Int] {
        guard symbols.count > 1 else { return symbols }
        var ids = symbols
        var next = Array(1...symbols.count), previous = Array(-1..<(symbols.count - 1))  // a linked list of live symbols
        var alive = [Bool](repeating: true, count: symbols.count)
        var queue = BinaryHeap<Candidate>()
        func consider(_ position: Int) {
            let right = next[position]
            guard right < ids.count, let merge = merges[Pair(left: ids[position], right: ids[right])] else { return }
            queue.push(Candidate(rank: merge.rank, position: position, id: merge.id))
        }
        for position in 0..<(ids.count - 1) { consider(position) }
        while let top = queue.pop() {
            let right = next[top.position]
            guard alive[top.position], right < ids.count,
                  merges[Pair(left: ids[top.position], right: ids[right])]?.id == top.id else { continue }
            ids[top.position] = top.id
            alive[right] = false
            next[top.position] = next[right]
            if next[right] < ids.count { previous[next[right]] = top.position }
            if previous[top.position] >= 0 { consider(previous[top.position]) }
            consider(top.position)
        }
        return ids.indices.filter { alive[$0] }.map { ids[$0] }
    }

    /// A merge that may apply at `position`; the earliest learned comes first, then the leftmost.
    struct Candidate: Comparable {
        let rank: Int
        let position: Int
        let id: Int

        static func < (a: Candidate, b: Candidate) -> Bool { (a.rank, a.position) < (b.rank, b.position) }
    }
}
