import Foundation

/// Any file read as a sequence of bytes, each byte a token (vocabulary 256), split into a training part (the
/// first `1 − validationFraction` of the bytes) and a validation part (the rest).
///
/// ```swift
/// let data = try ByteDataset(contentsOf: url, validationFraction: 0.1, minimumLength: 256)
/// let (inputs, targets) = data.batch(split: .train, batchSize: 8, length: 256, generator: &rng)
/// for (inputs, targets) in data.validationBatches(batchSize: 8, length: 256) { … }
/// ```
public struct ByteDataset: Sendable {
    /// Which part of the bytes a batch comes from.
    ///
    /// ```swift
    /// let (inputs, targets) = data.batch(split: .validation, batchSize: 4, length: 128, generator: &rng)
    /// ```
    public enum Split: String, Sendable, CaseIterable {
        case train
        case validation
    }

    /// The number of distinct tokens: one per byte value.
    public static let vocabularySize = 256
    /// The share of a file held out for validation unless told otherwise.
    public static let defaultValidationFraction = 0.1

    /// Where the bytes came from (a path, or the name given to ``init(bytes:name:validationFraction:minimumLength:)``).
    public let source: String
    /// All the bytes.
    public let bytes: [UInt8]
    /// How many of the leading bytes are training data; the rest are validation data.
    public let trainingByteCount: Int
    /// The fraction of bytes (rounded down) held out for validation.
    public let validationFraction: Double

    /// The bytes of `split`.
    public func bytes(of split: Split) -> ArraySlice<UInt8> {
        switch split {
        case .train: return bytes[..<trainingByteCount]
        case .validation: return bytes[trainingByteCount...]
        }
    }

    /// Reads the file at `url` in full.
    ///
    /// - Parameters:
    ///   - url: the file; any file is bytes.
    ///   - validationFraction: the share of bytes, taken from the end, kept for validation, in `[0, 1)`.
    ///   - minimumLength: the window length batches will use; each split (validation only when
    ///     `validationFraction > 0`) must hold at least `minimumLength + 1` bytes (a window plus its shifted target).
    /// - Throws: ``DatasetError`` saying what is wrong and what to do.
    public init(contentsOf url: URL, validationFraction: Double = defaultValidationFraction, minimumLength: Int) throws {
        let path = url.isFileURL ? url.path : url.absoluteString
        guard url.isFileURL else { throw DatasetError.unreadable(path: path, reason: "it is not a file URL") }
        switch FileKind(path: path) {
        case .missing: throw DatasetError.fileNotFound(path: path)
        case .directory: throw DatasetError.isDirectory(path: path)
        case .special: throw DatasetError.notARegularFile(path: path)
        case .regular: break
        }
        // The file is read whole: one larger than half this machine's memory is refused before reading.
        let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
        let limit = Int(min(ProcessInfo.processInfo.physicalMemory / 2, UInt64(Int.max)))
        guard size <= limit else { throw DatasetError.tooLarge(path: path, byteCount: size, limit: limit) }
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw DatasetError.unreadable(path: path, reason: (error as NSError).localizedDescription)
        }
        try self.init(bytes: [UInt8](data), name: path, validationFraction: validationFraction,
                      minimumLength: minimumLength)
    }

    /// Uses bytes held in memory (embedded text, generated data); `name` identifies them in error messages.
    public init(bytes: [UInt8], name: String = "embedded data", validationFraction: Double = defaultValidationFraction,
                minimumLength: Int) throws {
        precondition(minimumLength >= 1, "ByteDataset: minimumLength (\(minimumLength)) must be at least 1")
        guard validationFraction >= 0 && validationFraction < 1 else {
            throw DatasetError.invalidValidationFraction(validationFraction)
        }
        guard !bytes.isEmpty else { throw DatasetError.empty(source: name) }
        let required = Self.requiredByteCount(minimumLength: minimumLength, validationFraction: validationFraction)
        guard bytes.count >= required else {
            throw DatasetError.tooShort(source: name, byteCount: bytes.count, requiredByteCount: required,
                                        windowLength: minimumLength, validationFraction: validationFraction)
        }
        self.source = name
        self.bytes = bytes
        self.validationFraction = validationFraction
        trainingByteCount = bytes.count - Self.validationByteCount(total: bytes.count, fraction: validationFraction)
    }

    /// The number of bytes held out from `total` for validation: `⌊total · fraction⌋`.
    static func validationByteCount(total: Int, fraction: Double) -> Int {
        Int((Double(total) * fraction).rounded(.down))
    }

    /// The fewest bytes for which both splits hold a window of `minimumLength` plus one.
    static func requiredByteCount(minimumLength: Int, validationFraction: Double) -> Int {
        let window = minimumLength + 1
        func fits(_ n: Int) -> Bool {
            let validation = validationByteCount(total: n, fraction: validationFraction)
            return n - validation >= window && (validationFraction == 0 || validation >= window)
        }
        var n = window
        if validationFraction > 0 {
            // `fits` only turns true as n grows; start just below both bounds (validation: n ≥ window / f;
            // training: n > (window − 1) / (1 − f)) and step up past the rounding.
            let bound = max(Double(window) / validationFraction, Double(window - 1) / (1 - validationFraction))
            n = max(window, Int(min(bound, Double(Int.max / 2))) - 2)
        }
        while !fits(n) { n += 1 }
        return n
    }

    // MARK: Batches

    /// `batchSize` windows of `length` bytes starting at uniformly random positions of `split`, and the same
    /// windows shifted by one byte as targets; both of shape `[batchSize, length]`. The positions come from
    /// `generator` alone, so the same generator state gives the same batch.
    public func batch(split: Split, batchSize: Int, length: Int,
                      generator: inout RandomGenerator) -> (inputs: IndexTensor, targets: IndexTensor) {
        let part = bytes(of: split)
        precondition(batchSize >= 1 && length >= 1, "batch: batchSize (\(batchSize)) and length (\(length)) must be positive")
        precondition(part.count >= length + 1,
                     "batch: the \(split.rawValue) split holds \(part.count) bytes, too few for a window of \(length) plus 1; "
                     + "use a shorter length or a larger file")
        let starts = (0..<batchSize).map { _ in
            part.startIndex + Self.uniform(through: part.count - length - 1, using: &generator)
        }
        return windows(starting: starts, length: length)
    }

    /// Consecutive, non-overlapping windows of `length` covering `split` in order, `batchSize` at a time (the last
    /// batch may be smaller). Bytes after the last whole window (fewer than `length`) are left out. The same every
    /// time, for reproducible validation losses.
    public func sequentialBatches(split: Split, batchSize: Int, length: Int) -> SequentialBatches {
        precondition(batchSize >= 1 && length >= 1, "sequentialBatches: batchSize (\(batchSize)) and length (\(length)) must be positive")
        return SequentialBatches(dataset: self, split: split, batchSize: batchSize, length: length)
    }

    /// ``sequentialBatches(split:batchSize:length:)`` over the validation split.
    public func validationBatches(batchSize: Int, length: Int) -> SequentialBatches {
        sequentialBatches(split: .validation, batchSize: batchSize, length: length)
    }

    /// Inputs `bytes[s ..< s + length]` and targets `bytes[s + 1 ... s + length]` for each start `s`.
    func windows(starting starts: [Int], length: Int) -> (inputs: IndexTensor, targets: IndexTensor) {
        var inputs: [Int] = []
        var targets: [Int] = []
        inputs.reserveCapacity(starts.count * length)
        targets.reserveCapacity(starts.count * length)
        for s in starts {
            for i in s..<(s + length) {
                inputs.append(Int(bytes[i]))
                targets.append(Int(bytes[i + 1]))
            }
        }
        return (IndexTensor(shape: [starts.count, length], inputs), IndexTensor(shape: [starts.count, length], targets))
    }

    /// A uniform integer in `0 ... bound` by rejection sampling (unbiased, and fixed here so it never changes).
    static func uniform(through bound: Int, using generator: inout RandomGenerator) -> Int {
        let range = UInt64(bound) + 1
        let threshold = (0 &- range) % range
        while true {
            let r = generator.next()
            if r >= threshold { return Int(r % range) }
        }
    }

    // MARK: Metrics

    /// Bits per byte from a mean cross-entropy per byte in nats: `nats / ln 2`.
    public static func bitsPerByte(nats: Double) -> Double { nats / log(2.0) }
}

/// The batches of ``ByteDataset/sequentialBatches(split:batchSize:length:)``, in order.
///
/// ```swift
/// for (inputs, targets) in data.validationBatches(batchSize: 8, length: 256) { total += model.loss(inputs, targets) }
/// ```
public struct SequentialBatches: Sequence, Sendable {
    let dataset: ByteDataset
    let split: ByteDataset.Split
    public let batchSize: Int
    public let length: Int

    /// The number of whole windows in the split.
    public var windowCount: Int {
        let n = dataset.bytes(of: split).count
        return n > length ? (n - 1) / length : 0
    }

    /// The number of batches.
    public var count: Int { (windowCount + batchSize - 1) / batchSize }

    /// The batches in order, each a window of `length` inputs and its shifted targets.
    ///
    /// ```swift
    /// var batches = data.validationBatches(batchSize: 8, length: 256).makeIterator()
    /// let first = batches.next()
    /// ```
    public struct Iterator: IteratorProtocol {
        let batches: SequentialBatches
        var nextWindow = 0

        public mutating func next() -> (inputs: IndexTensor, targets: IndexTensor)? {
            let total = batches.windowCount
            guard nextWindow < total else { return nil }
            let end = Swift.min(nextWindow + batches.batchSize, total)
            let base = batches.dataset.bytes(of: batches.split).startIndex
            let starts = (nextWindow..<end).map { base + $0 * batches.length }
            nextWindow = end
            return batches.dataset.windows(starting: starts, length: batches.length)
        }
    }

    public func makeIterator() -> Iterator { Iterator(batches: self) }
}

/// Why a dataset could not be loaded. Each message says what is wrong and what to do.
///
/// ```swift
/// do { _ = try ByteDataset(contentsOf: url, minimumLength: 256) } catch let error as DatasetError { print(error) }   // says what to do
/// ```
public enum DatasetError: Error, CustomStringConvertible, Equatable, Sendable {
    case fileNotFound(path: String)
    case isDirectory(path: String)
    /// A FIFO, device or socket, which cannot be read whole.
    case notARegularFile(path: String)
    /// Larger than `limit` bytes (half the machine's memory); training reads the data file whole.
    case tooLarge(path: String, byteCount: Int, limit: Int)
    case unreadable(path: String, reason: String)
    case empty(source: String)
    /// `requiredByteCount` is the fewest bytes that hold a window of `windowLength` plus one in each split.
    case tooShort(source: String, byteCount: Int, requiredByteCount: Int, windowLength: Int, validationFraction: Double)
    case invalidValidationFraction(Double)

    public var description: String {
        switch self {
        case .fileNotFound(let path):
            return "no file at \(path); check the path (and the working directory, if it is relative)"
        case .tooLarge(let path, let byteCount, let limit):
            return "\(path) holds \(byteCount) bytes, more than half this machine's memory (\(limit) bytes may be read); "
                + "training reads the data file whole — pass a part of it"
        case .notARegularFile(let path):
            return "\(path) is not a regular file (a FIFO, device or socket), which cannot be read whole; save the data to "
                + "a file and pass that"
        case .isDirectory(let path):
            return "\(path) is a directory; pass one file inside it (any file works: its bytes are the data), "
                + "or concatenate the files into one first"
        case .unreadable(let path, let reason):
            return "cannot read \(path): \(reason); check that it is a regular file you have permission to read"
        case .empty(let source):
            return "\(source) is empty; training needs data — pass a non-empty file"
        case .tooShort(let source, let count, let required, let window, let fraction):
            let split = fraction > 0
                ? "one training window and one validation window (validation fraction \(fraction))"
                : "one training window"
            return "\(source) holds \(count) byte\(count == 1 ? "" : "s"), but a context length of \(window) needs at "
                + "least \(required) bytes for \(split), each \(window) bytes plus one target byte; use a larger file, "
                + "a shorter context length, or a different validation fraction"
        case .invalidValidationFraction(let fraction):
            return "validation fraction \(fraction) is outside [0, 1); use e.g. 0.1 to hold out the last 10% of the "
                + "bytes, or 0 for no validation split"
        }
    }
}
