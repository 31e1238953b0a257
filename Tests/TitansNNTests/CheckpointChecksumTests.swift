import Foundation
import Testing
@testable import TitansNN

/// Verified checkpoints: a CRC-32 of the content in the metadata, checked on loading; files from before the checksum
/// still load, marked unverified; non-finite values are refused.
@Suite("Checkpoint checksums")
struct CheckpointChecksumTests {
    /// The standard check value of CRC-32/ISO-HDLC, and the checksum's independence of how the bytes are split.
    @Test func crc32OfTheStandardCheckString() {
        var crc = CRC32()
        crc.update(Array("123456789".utf8))
        #expect(crc.value == 0xCBF4_3926)
        var split = CRC32()
        split.update(Array("1234".utf8))
        split.update(Array("56789".utf8))
        #expect(split.value == crc.value)
        #expect(CRC32().value == 0)
    }

    /// The standard check value of CRC-32C (Castagnoli), and RFC 3720's test vector of 32 zero bytes.
    @Test func crc32cOfTheStandardCheckString() {
        var crc = CRC32(.castagnoli)
        crc.update(Array("123456789".utf8))
        #expect(crc.value == 0xE306_9283)
        var zeros = CRC32(.castagnoli)
        zeros.update([UInt8](repeating: 0, count: 32))
        #expect(zeros.value == 0x8A91_36AA)
    }

    @Test func savedCheckpointsCarryAChecksumAndLoadVerified() throws {
        let scratch = try Scratch()
        defer { scratch.cleanUp() }
        let url = scratch.file("ckpt.safetensors")
        _ = try trainedCheckpoint(at: url)
        let file = try SafetensorsFile.read(from: url)
        #expect(file.metadata["format"] == "titans-checkpoint-2")
        let recorded = try #require(file.metadata["checksum"])
        #expect(recorded.hasPrefix("crc32:") && recorded.count == 14)
        #expect(try Checkpoint.load(from: url).unverified == false)
    }

    /// Every byte of the data section and every byte of a metadata value, changed in turn (one bit flipped), is
    /// refused: by the checksum, or earlier by the reader when the change breaks the header.
    @Test func everyFlippedBitIsRefused() throws {
        let scratch = try Scratch()
        defer { scratch.cleanUp() }
        let url = scratch.file("ckpt.safetensors")
        _ = try trainedCheckpoint(at: url)
        let original = try Data(contentsOf: url)
        let headerLength = Int(original.prefix(8).withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) })
        let header = String(decoding: original[8..<(8 + headerLength)], as: UTF8.self)
        // The bytes of the "note" value in the header, and every data byte.
        let note = try #require(header.range(of: "unit test"))
        let noteStart = 8 + header.utf8.distance(from: header.startIndex, to: note.lowerBound)
        let positions = Array(noteStart..<(noteStart + 9)) + Array((8 + headerLength)..<original.count)
        var refusedByChecksum = 0
        for (i, position) in positions.enumerated() {
            var damaged = original
            damaged[position] ^= UInt8(1 << (i % 8))
            try damaged.write(to: url)
            do {
                _ = try Checkpoint.load(from: url)
                Issue.record("a flipped bit at byte \(position) was loaded")
            } catch let error as CheckpointError {
                if case .checksumMismatch = error { refusedByChecksum += 1 }
            } catch is SafetensorsError {}
        }
        #expect(refusedByChecksum >= positions.count - 9, "\(refusedByChecksum) of \(positions.count)")
    }

    @Test func theMessageNamesTheFileAndWhatToDo() throws {
        let scratch = try Scratch()
        defer { scratch.cleanUp() }
        let url = scratch.file("ckpt.safetensors")
        _ = try trainedCheckpoint(at: url)
        var bytes = try Data(contentsOf: url)
        bytes[bytes.count - 1] ^= 0x10
        try bytes.write(to: url)
        expectError(CheckpointError.self, ["ckpt.safetensors", "damaged", "earlier copy"], {
            if case .checksumMismatch = $0 { return true } else { return false }
        }) { _ = try Checkpoint.load(from: url) }
    }

    /// A file of the first format (no checksum) loads, marked unverified; one of the current format without its
    /// checksum is refused.
    @Test func checkpointsFromBeforeTheChecksumStillLoad() throws {
        let scratch = try Scratch()
        defer { scratch.cleanUp() }
        let url = scratch.file("old.safetensors")
        let model = TinyModel(width: 4, seed: 1)
        let prefixed = model.namedParameters().map { (name: "model." + $0.name, tensor: $0.tensor) }
        let rng = String(decoding: try JSONEncoder().encode(RandomGenerator(seed: 1)), as: UTF8.self)
        var metadata = ["format": Checkpoint.legacyFormatVersion, "step": "2", "rng_state": rng, "config": config]
        try SafetensorsFile.write(prefixed, metadata: metadata, to: url)
        let old = try Checkpoint.load(from: url)
        #expect(old.unverified && old.step == 2 && old.parameters.count == prefixed.count)
        metadata["format"] = Checkpoint.formatVersion
        try SafetensorsFile.write(prefixed, metadata: metadata, to: url)
        expectError(CheckpointError.self, ["checksum"], { $0 == .missingMetadata(file: "old.safetensors", key: "checksum") }) {
            _ = try Checkpoint.load(from: url)
        }
    }

    /// NaN or infinite weights (a diverged run, or damage that kept the checksum) are refused by name.
    @Test func nonFiniteValuesAreRefused() throws {
        let scratch = try Scratch()
        defer { scratch.cleanUp() }
        let url = scratch.file("nan.safetensors")
        let model = TinyModel(width: 4, seed: 1)
        let first = try #require(model.namedParameters().first)
        first.tensor.assign(first.tensor * .infinity)
        try Checkpoint(parameters: model.namedParameters(), step: 1, rngState: RandomGenerator(seed: 1), config: config).save(to: url)
        expectError(CheckpointError.self, ["not finite", "model." + first.name], {
            $0 == .nonFiniteTensor(file: "nan.safetensors", name: "model." + first.name)
        }) { _ = try Checkpoint.load(from: url) }
    }
}
