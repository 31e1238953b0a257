import Foundation

/// Training windows from a ``TokenFile``: random windows of the tokens before ``TokenFile/Header/validationStart``,
/// consecutive windows of the held-out tokens after it, each with its targets one token on; read from the mapped file,
/// so only the windows drawn are paged in.
///
/// ```swift
/// let data = try TokenDataset(contentsOf: URL(fileURLWithPath: "corpus.tokens"), minimumLength: 512)
/// var rng = RandomGenerator(seed: 0)
/// let (inputs, targets) = data.randomWindows(size: 8, length: 512, generator: &rng)
/// ```
public struct TokenDataset: Sendable {
    public let file: TokenFile
    public var header: TokenFile.Header { file.header }

    /// The file at `url`, checked to hold at least one training window of `minimumLength` + 1 tokens (and, when it holds
    /// out any tokens, one held-out window), and only tokens inside its vocabulary (one pass over the file).
    public init(contentsOf url: URL, minimumLength: Int) throws {
        file = try TokenFile(contentsOf: url)
        let h = file.header
        guard h.validationStart >= minimumLength + 1 else {
            throw TokenFileError.tooShort(path: url.path, split: "training", tokens: h.validationStart, needed: minimumLength + 1)
        }
        if let i = file.firstTokenOutsideVocabulary() {  // a token the model has no row for would stop training
            throw TokenFileError.damaged(path: url.path, reason: "token \(i) is \(file[i]), outside its vocabulary of \(h.vocabularySize)")
        }
        let held = h.tokens - h.validationStart
        guard held == 0 || held >= minimumLength + 1 else {
            throw TokenFileError.tooShort(path: url.path, split: "held-out", tokens: held, needed: minimumLength + 1)
        }
    }

    /// `size` windows of `length` tokens at uniformly random starts in the training tokens, and their targets.
    public func randomWindows(size: Int, length: Int, generator: inout RandomGenerator) -> (inputs: IndexTensor, targets: IndexTensor) {
        let starts = (0..<size).map { _ in ByteDataset.uniform(through: header.validationStart - length - 1, using: &generator) }
        return windows(starts, length: length)
    }

    /// Consecutive windows of the held-out tokens, `size` at a time, at most `limit` batches.
    public func heldOutWindows(size: Int, length: Int, limit: Int) -> [(inputs: IndexTensor, targets: IndexTensor)] {
        let starts = Array(stride(from: header.validationStart, through: header.tokens - length - 1, by: length))
        return stride(from: 0, to: min(starts.count, limit * size), by: size).map { first in
            windows(Array(starts[first..<min(starts.count, first + size)]), length: length)
        }
    }

    /// Bits per byte of text for a loss in nats per token, at the held-out tokens' bytes per token.
    public func bitsPerByte(nats: Double) -> Double? {
        guard header.validationBytes > 0 else { return nil }
        return nats / log(2) * Double(header.tokens - header.validationStart) / Double(header.validationBytes)
    }

    private func windows(_ starts: [Int], length: Int) -> (inputs: IndexTensor, targets: IndexTensor) {
        var inputs: [Int] = [], targets: [Int] = []
        inputs.reserveCapacity(starts.count * length)
        targets.reserveCapacity(starts.count * length)
        for start in starts {
            let tokens = file.tokens(start..<(start + length + 1))
            inputs += tokens.dropLast()
            targets += tokens.dropFirst()
        }
        return (IndexTensor(shape: [starts.count, length], inputs), IndexTensor(shape: [starts.count, length], targets))
    }
}
