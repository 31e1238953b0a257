import Foundation
import Testing
@testable import TitansData
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A fresh directory under the system temporary directory.
private struct Scratch {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory
            .appendingPathComponent("bytes-\(UUID().uuidString.prefix(8))", isDirectory: true)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    func file(_ name: String, _ bytes: [UInt8]) throws -> URL {
        let file = url.appendingPathComponent(name)
        try Data(bytes).write(to: file)
        return file
    }

    func cleanUp() { try? FileManager.default.removeItem(at: url) }
}

/// Expects `body` to throw a `DatasetError` for which `matches` holds and whose message contains `parts`.
private func expectDatasetError(_ parts: [String], sourceLocation: SourceLocation = #_sourceLocation,
                                _ matches: (DatasetError) -> Bool, _ body: () throws -> Void) {
    do {
        try body()
        Issue.record("expected a DatasetError, but nothing was thrown", sourceLocation: sourceLocation)
    } catch let error as DatasetError {
        #expect(matches(error), "unexpected error: \(error)", sourceLocation: sourceLocation)
        for part in parts {
            #expect(error.description.contains(part), "message lacks \"\(part)\": \(error)", sourceLocation: sourceLocation)
        }
    } catch {
        Issue.record("expected a DatasetError, got \(error)", sourceLocation: sourceLocation)
    }
}

/// Bytes 0, 1, …, 250, 0, 1, …: each byte determines its successor, so shifts are easy to check.
private func counting(_ count: Int) -> [UInt8] { (0..<count).map { UInt8($0 % 251) } }

@Suite("ByteDataset")
struct ByteDatasetTests {
    @Test func missingPathIsRefused() {
        let url = URL(fileURLWithPath: "/nonexistent-\(UUID().uuidString)/data.txt")
        expectDatasetError(["no file at", "check the path"], { $0 == .fileNotFound(path: url.path) }) {
            _ = try ByteDataset(contentsOf: url, minimumLength: 8)
        }
    }

    @Test func directoryIsRefused() throws {
        let scratch = try Scratch()
        defer { scratch.cleanUp() }
        expectDatasetError(["is a directory", "pass one file"], { $0 == .isDirectory(path: scratch.url.path) }) {
            _ = try ByteDataset(contentsOf: scratch.url, minimumLength: 8)
        }
    }

    /// A FIFO or a device would block or never end if read whole: refused at once.
    @Test func fifoAndDeviceAreRefused() throws {
        let scratch = try Scratch()
        defer { scratch.cleanUp() }
        let fifo = scratch.url.appendingPathComponent("pipe")
        #expect(mkfifo(fifo.path, 0o600) == 0)
        for path in [fifo.path, "/dev/zero"] {
            expectDatasetError(["not a regular file", "save the data to a file"], { $0 == .notARegularFile(path: path) }) {
                _ = try ByteDataset(contentsOf: URL(fileURLWithPath: path), minimumLength: 8)
            }
        }
    }

    /// A file larger than half the machine's memory is refused before anything is read (a sparse file of 4 TB here).
    @Test func hugeFileIsRefusedBeforeReading() throws {
        let scratch = try Scratch()
        defer { scratch.cleanUp() }
        let url = scratch.url.appendingPathComponent("huge.txt")
        #expect(FileManager.default.createFile(atPath: url.path, contents: nil))
        let handle = try FileHandle(forWritingTo: url)
        try handle.truncate(atOffset: 1 << 42)
        try handle.close()
        expectDatasetError(["more than half this machine's memory", "pass a part of it"], {
            if case .tooLarge(url.path, 1 << 42, _) = $0 { return true } else { return false }
        }) { _ = try ByteDataset(contentsOf: url, minimumLength: 8) }
    }

    @Test func unreadableFileIsRefused() throws {
        #if canImport(Glibc)
        // A Unix socket exists but cannot be read as a file (refused before opening, as FIFOs and devices are).
        let scratch = try Scratch()
        defer { scratch.cleanUp() }
        let path = scratch.url.appendingPathComponent("socket").path
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        try #require(fd >= 0)
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let pathBytes = Array(path.utf8)
        try #require(pathBytes.count < MemoryLayout.size(ofValue: address.sun_path))
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: pathBytes) }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        try #require(bound == 0)
        expectDatasetError(["not a regular file"], { $0 == .notARegularFile(path: path) }) {
            _ = try ByteDataset(contentsOf: URL(fileURLWithPath: path), minimumLength: 8)
        }
        #endif
        expectDatasetError(["not a file URL"], { if case .unreadable = $0 { return true } else { return false } }) {
            _ = try ByteDataset(contentsOf: URL(string: "https://example.com/data.txt")!, minimumLength: 8)
        }
    }

    @Test func emptyFileIsRefused() throws {
        let scratch = try Scratch()
        defer { scratch.cleanUp() }
        let url = try scratch.file("empty.txt", [])
        expectDatasetError(["is empty", "non-empty file"], { $0 == .empty(source: url.path) }) {
            _ = try ByteDataset(contentsOf: url, minimumLength: 8)
        }
        expectDatasetError(["embedded data is empty"], { $0 == .empty(source: "embedded data") }) {
            _ = try ByteDataset(bytes: [], minimumLength: 8)
        }
    }

    @Test func tooShortFileIsRefusedAtTheExactBoundary() throws {
        let scratch = try Scratch()
        defer { scratch.cleanUp() }
        // Window 8 + 1 target byte = 9 in each split; ⌊0.1·n⌋ ≥ 9 first holds at n = 90 (train then has 81).
        #expect(ByteDataset.requiredByteCount(minimumLength: 8, validationFraction: 0.1) == 90)
        let short = try scratch.file("short.bin", counting(89))
        expectDatasetError(["89 bytes", "at least 90 bytes", "context length of 8", "larger file"], {
            $0 == .tooShort(source: short.path, byteCount: 89, requiredByteCount: 90, windowLength: 8, validationFraction: 0.1)
        }) { _ = try ByteDataset(contentsOf: short, validationFraction: 0.1, minimumLength: 8) }
        let enough = try ByteDataset(contentsOf: try scratch.file("enough.bin", counting(90)), validationFraction: 0.1,
                                     minimumLength: 8)
        #expect(enough.trainingByteCount == 81)
        #expect(enough.bytes(of: .validation).count == 9)

        // Without validation only one training window is needed; with a large fraction training is the limit.
        #expect(ByteDataset.requiredByteCount(minimumLength: 8, validationFraction: 0) == 9)
        _ = try ByteDataset(bytes: counting(9), validationFraction: 0, minimumLength: 8)
        expectDatasetError(["one training window"], { if case .tooShort = $0 { return true } else { return false } }) {
            _ = try ByteDataset(bytes: counting(8), validationFraction: 0, minimumLength: 8)
        }
        // n − ⌊0.9·n⌋ ≥ 9 first holds at n = 81.
        #expect(ByteDataset.requiredByteCount(minimumLength: 8, validationFraction: 0.9) == 81)
        for (length, fraction) in [(1, 0.5), (3, 0.01), (100, 0.25), (7, 0.333), (64, 0.999), (5, 0.9), (12, 0.75)] {
            let n = ByteDataset.requiredByteCount(minimumLength: length, validationFraction: fraction)
            #expect((try? ByteDataset(bytes: counting(n), validationFraction: fraction, minimumLength: length)) != nil)
            #expect((try? ByteDataset(bytes: counting(n - 1), validationFraction: fraction, minimumLength: length)) == nil)
        }
    }

    @Test func invalidValidationFractionIsRefused() {
        for fraction in [-0.1, 1, 1.5, .nan] {
            expectDatasetError(["validation fraction"], {
                if case .invalidValidationFraction = $0 { return true } else { return false }
            }) { _ = try ByteDataset(bytes: counting(1000), validationFraction: fraction, minimumLength: 8) }
        }
    }

    @Test func anyFileLoadsAsBytes() throws {
        let scratch = try Scratch()
        defer { scratch.cleanUp() }
        let bytes = (0..<2000).map { UInt8(($0 * 37 + 11) % 256) }
        let data = try ByteDataset(contentsOf: try scratch.file("data.bin", bytes), minimumLength: 16)
        #expect(data.bytes == bytes)
        #expect(ByteDataset.vocabularySize == 256)
        #expect(data.source.hasSuffix("data.bin"))
    }

    @Test func splitBoundaries() throws {
        // Training bytes are below 128, validation bytes 128 and above.
        let bytes: [UInt8] = (0..<1000).map { (i: Int) -> UInt8 in UInt8(i < 900 ? i % 128 : 128 + i % 128) }
        let data = try ByteDataset(bytes: bytes, validationFraction: 0.1, minimumLength: 10)
        #expect(data.trainingByteCount == 900)
        #expect(Array(data.bytes(of: .train)) == Array(bytes[..<900]))
        #expect(Array(data.bytes(of: .validation)) == Array(bytes[900...]))

        var rng = RandomGenerator(seed: 3)
        var firstStarts = Set<Int>()
        for _ in 0..<200 {
            let train = data.batch(split: .train, batchSize: 8, length: 10, generator: &rng)
            #expect((train.inputs.values + train.targets.values).allSatisfy { $0 < 128 })
            let validation = data.batch(split: .validation, batchSize: 8, length: 10, generator: &rng)
            #expect((validation.inputs.values + validation.targets.values).allSatisfy { $0 >= 128 })
            // Validation windows start in 0...89 of the split (the last target is its final byte).
            for row in 0..<8 { firstStarts.insert(validation.inputs.values[row * 10] - 128 - 900 % 128) }
        }
        // Every start position of the 100-byte validation split is drawn, the first and last included.
        #expect(firstStarts.count == 90)
    }

    @Test func targetsAreTheInputsShiftedByOneByte() throws {
        let bytes = counting(5000)
        let data = try ByteDataset(bytes: bytes, minimumLength: 32)
        var rng = RandomGenerator(seed: 11)
        let (inputs, targets) = data.batch(split: .train, batchSize: 4, length: 32, generator: &rng)
        #expect(inputs.shape == [4, 32] && targets.shape == [4, 32])
        for row in 0..<4 {
            let x = Array(inputs.values[(row * 32)..<((row + 1) * 32)])
            let y = Array(targets.values[(row * 32)..<((row + 1) * 32)])
            #expect(Array(x.dropFirst()) == Array(y.dropLast()))
            #expect(zip(x, y).allSatisfy { ($0 + 1) % 251 == $1 })
        }
    }

    @Test func batchesAreDeterministicGivenTheSeed() throws {
        let data = try ByteDataset(bytes: (0..<4096).map { UInt8(truncatingIfNeeded: $0 &* 2654435761 >> 7) }, minimumLength: 64)
        var a = RandomGenerator(seed: 123)
        var b = RandomGenerator(seed: 123)
        var c = RandomGenerator(seed: 124)
        let first = data.batch(split: .train, batchSize: 6, length: 64, generator: &a)
        #expect(a != RandomGenerator(seed: 123), "the generator advances")
        #expect(first == data.batch(split: .train, batchSize: 6, length: 64, generator: &b))
        #expect(a == b)
        #expect(first != data.batch(split: .train, batchSize: 6, length: 64, generator: &c))
        // A saved generator state resumes the same sequence of batches.
        let saved = a
        var resumed = saved
        #expect(data.batch(split: .train, batchSize: 6, length: 64, generator: &a)
                == data.batch(split: .train, batchSize: 6, length: 64, generator: &resumed))
    }

    @Test func validationBatchesCoverTheSplitInOrder() throws {
        let bytes = counting(1000)
        let data = try ByteDataset(bytes: bytes, validationFraction: 0.1, minimumLength: 8)
        let batches = data.validationBatches(batchSize: 5, length: 8)
        // 100 validation bytes hold ⌊99 / 8⌋ = 12 whole windows (with their targets): batches of 5, 5 and 2.
        #expect(batches.windowCount == 12 && batches.count == 3)
        let all = Array(batches)
        #expect(all.map(\.inputs.shape) == [[5, 8], [5, 8], [2, 8]])
        let validation = bytes[900...].map(Int.init)
        #expect(all.flatMap(\.inputs.values) == Array(validation[0..<96]))
        #expect(all.flatMap(\.targets.values) == Array(validation[1...96]))
        #expect(Array(data.validationBatches(batchSize: 5, length: 8)).map(\.inputs) == all.map(\.inputs))

        let exact = data.sequentialBatches(split: .train, batchSize: 100, length: 899)
        #expect(Array(exact).map(\.inputs.shape) == [[1, 899]])
        #expect(Array(data.sequentialBatches(split: .validation, batchSize: 1, length: 100)).isEmpty)
        let none = try ByteDataset(bytes: bytes, validationFraction: 0, minimumLength: 8)
        #expect(Array(none.validationBatches(batchSize: 4, length: 8)).isEmpty)
    }

    @Test func bitsPerByteConvertsNats() {
        #expect(ByteDataset.bitsPerByte(nats: log(2.0)) == 1)
        #expect(Swift.abs(ByteDataset.bitsPerByte(nats: log(256.0)) - 8) < 1e-12)
        #expect(ByteDataset.bitsPerByte(nats: 0) == 0)
    }
}
