import Foundation
import Testing
@testable import TitansNN

/// A fresh directory under the system temporary directory, removed by `cleanUp()`.
struct Scratch {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory
            .appendingPathComponent("titans-nn-tests-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    func file(_ name: String) -> URL { url.appendingPathComponent(name) }

    func contents() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: url.path).sorted()
    }

    func cleanUp() {
        _ = try? FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: url.path)
        try? FileManager.default.removeItem(at: url)
    }
}

/// Bytes of a safetensors file built by hand: the length prefix, `header` (optionally padded with spaces to
/// `padTo` bytes in all before the data), then `data`.
private func fileBytes(header: String, data: [UInt8] = [], headerLength: UInt64? = nil, padTo alignment: Int = 1) -> Data {
    var json = Array(header.utf8)
    while (8 + json.count) % alignment != 0 { json.append(UInt8(ascii: " ")) }
    var out = Data()
    withUnsafeBytes(of: (headerLength ?? UInt64(json.count)).littleEndian) { out.append(contentsOf: $0) }
    out.append(contentsOf: json)
    out.append(contentsOf: data)
    return out
}

private func littleEndianBytes<T: FixedWidthInteger>(_ values: [T]) -> [UInt8] {
    values.flatMap { v in withUnsafeBytes(of: v.littleEndian) { Array($0) } }
}

/// Expects `body` to throw a `SafetensorsError` for which `matches` holds and whose message contains `parts`.
private func expectError(_ parts: [String] = [], sourceLocation: SourceLocation = #_sourceLocation,
                         _ matches: (SafetensorsError) -> Bool, _ body: () throws -> Void) {
    do {
        try body()
        Issue.record("expected a SafetensorsError, but nothing was thrown", sourceLocation: sourceLocation)
    } catch let error as SafetensorsError {
        #expect(matches(error), "unexpected error case: \(error)", sourceLocation: sourceLocation)
        let message = error.description
        for part in parts {
            #expect(message.contains(part), "message lacks \"\(part)\": \(message)", sourceLocation: sourceLocation)
        }
    } catch {
        Issue.record("expected a SafetensorsError, got \(error)", sourceLocation: sourceLocation)
    }
}

/// Expects parsing `bytes` to fail with the given error case.
private func expectParseError(_ bytes: Data, _ parts: [String] = [], sourceLocation: SourceLocation = #_sourceLocation,
                              _ matches: (SafetensorsError) -> Bool) {
    expectError(parts, sourceLocation: sourceLocation, matches) {
        _ = try SafetensorsFile(bytes: bytes, fileName: "bad.safetensors")
    }
}

@Suite("Safetensors: round trips")
struct SafetensorsRoundTripTests {
    static let shapes: [[Int]] = [[], [0], [1], [5], [2, 3], [2, 0, 4], [1, 1, 1, 7], [3, 2, 2]]

    @Test func float32RoundTripOfManyShapes() throws {
        let scratch = try Scratch()
        defer { scratch.cleanUp() }
        var rng = RandomGenerator(seed: 7)
        let tensors = Self.shapes.enumerated().map { i, shape in
            (name: "t\(i)", tensor: Tensor.randomNormal(shape, generator: &rng))
        }
        let url = scratch.file("f32.safetensors")
        try SafetensorsFile.write(tensors, to: url)
        let file = try SafetensorsFile.read(from: url)
        #expect(file.names == tensors.map(\.name))
        #expect(file.metadata.isEmpty)
        for (name, original) in tensors {
            let loaded = try file.tensor(named: name)
            #expect(loaded.dtype == .float32)
            #expect(loaded.shape == original.shape)
            #expect(loaded.toFloatArray().map(\.bitPattern) == original.toFloatArray().map(\.bitPattern))
            #expect(try file.info(named: name).dtype == .float32)
        }
        #expect(try scratch.contents() == ["f32.safetensors"])
    }

    @Test func float64RoundTripIsBitExactIncludingSpecialValues() throws {
        let scratch = try Scratch()
        defer { scratch.cleanUp() }
        var rng = RandomGenerator(seed: 11)
        var tensors = Self.shapes.enumerated().map { i, shape in
            (name: "layer.\(i).weight", tensor: Tensor.randomNormal(shape, dtype: .float64, generator: &rng))
        }
        let special: [Double] = [0, -0.0, .infinity, -.infinity, .nan, .leastNonzeroMagnitude, .greatestFiniteMagnitude, 1e-300]
        tensors.append((name: "special", tensor: Tensor(shape: [2, 4], special, dtype: .float64)))
        let url = scratch.file("f64.safetensors")
        try SafetensorsFile.write(tensors, to: url)
        let file = try SafetensorsFile.read(from: url)
        #expect(file.names == tensors.map(\.name))
        for (name, original) in tensors {
            let loaded = try file.tensor(named: name)
            #expect(loaded.dtype == .float64)
            #expect(loaded.shape == original.shape)
            #expect(loaded.toArray().map(\.bitPattern) == original.toArray().map(\.bitPattern))
        }
    }

    @Test func mixedDTypesAndScalarsKeepTheirKinds() throws {
        let tensors: [(name: String, tensor: Tensor)] = [
            (name: "scalar32", tensor: Tensor.scalar(3.5)),
            (name: "scalar64", tensor: Tensor.scalar(-2.25, dtype: .float64)),
            (name: "empty64", tensor: Tensor.zeros([0, 3], dtype: .float64)),
            (name: "vector", tensor: Tensor(shape: [3], [1, 2, 3] as [Float])),
        ]
        let file = try SafetensorsFile(bytes: try SafetensorsFile.encode(tensors))
        #expect(try file.tensor(named: "scalar32").shape == [])
        #expect(try file.tensor(named: "scalar32").item() == 3.5)
        #expect(try file.tensor(named: "scalar64").dtype == .float64)
        #expect(try file.tensor(named: "scalar64").item() == -2.25)
        #expect(try file.tensor(named: "empty64").shape == [0, 3])
        #expect(try file.tensor(named: "empty64").dtype == .float64)
        #expect(try file.tensor(named: "vector").toFloatArray() == [1, 2, 3])
        #expect(file.contains("vector") && !file.contains("nothing"))
    }

    @Test func metadataAndUnusualNamesRoundTrip() throws {
        let scratch = try Scratch()
        defer { scratch.cleanUp() }
        let metadata = [
            "format": "pt", "step": "1200", "quote\"and\\backslash": "line\nbreak\ttab\u{1}control",
            "unicode": "Größe — 記憶 🧠", "": "empty key",
        ]
        let names = ["embed.weight", "näme with spaces", "quote\"name", "a/b\\c"]
        let tensors = names.enumerated().map { i, n in (name: n, tensor: Tensor.full([2], value: Double(i))) }
        let url = scratch.file("meta.safetensors")
        try SafetensorsFile.write(tensors, metadata: metadata, to: url)
        let file = try SafetensorsFile.read(from: url)
        #expect(file.metadata == metadata)
        #expect(file.names == names)
        for (i, n) in names.enumerated() { #expect(try file.tensor(named: n).toFloatArray() == [Float(i), Float(i)]) }
    }

    @Test func nonContiguousTensorsAreWrittenInRowMajorOrder() throws {
        let base = Tensor(shape: [2, 3], [1, 2, 3, 4, 5, 6] as [Float])
        let transposed = base.transposed()  // [[1, 4], [2, 5], [3, 6]]
        let strided = Tensor(shape: [6], [0, 1, 2, 3, 4, 5], dtype: .float64).slice(axis: 0, start: 1, end: 6, step: 2)
        let broadcast = Tensor(shape: [1, 3], [7, 8, 9] as [Float]).expand(to: [2, 3])
        #expect(!transposed.isContiguous && !strided.isContiguous && !broadcast.isContiguous)
        let file = try SafetensorsFile(bytes: try SafetensorsFile.encode([
            (name: "t", tensor: transposed), (name: "s", tensor: strided), (name: "b", tensor: broadcast),
        ]))
        #expect(try file.tensor(named: "t").shape == [3, 2])
        #expect(try file.tensor(named: "t").toFloatArray() == [1, 4, 2, 5, 3, 6])
        #expect(try file.tensor(named: "s").toArray() == [1, 3, 5])
        #expect(try file.tensor(named: "b").toFloatArray() == [7, 8, 9, 7, 8, 9])
    }

    @Test func identicalContentGivesIdenticalBytes() throws {
        let scratch = try Scratch()
        defer { scratch.cleanUp() }
        let tensors: [(name: String, tensor: Tensor)] = [
            (name: "zeta", tensor: Tensor.ones([3])), (name: "alpha", tensor: Tensor.arange(5, dtype: .float64)),
            (name: "Mid", tensor: Tensor.scalar(1)),
        ]
        var metadataA: [String: String] = [:]
        var metadataB: [String: String] = [:]
        for i in 0..<20 { metadataA["k\(i)"] = "v\(i)" }
        for i in (0..<20).reversed() { metadataB["k\(i)"] = "v\(i)" }
        let a = scratch.file("a.safetensors"), b = scratch.file("b.safetensors")
        try SafetensorsFile.write(tensors, metadata: metadataA, to: a)
        try SafetensorsFile.write(tensors, metadata: metadataB, to: b)
        let bytesA = try Data(contentsOf: a), bytesB = try Data(contentsOf: b)
        #expect(bytesA == bytesB)
        #expect(bytesA == (try SafetensorsFile.encode(tensors, metadata: metadataA)))

        // The data starts 8-byte aligned, the header is padded with spaces, and its keys are sorted.
        let headerLength = bytesA.prefix(8).enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        #expect((8 + headerLength) % 8 == 0)
        #expect(bytesA.count == 8 + headerLength + 3 * 4 + 5 * 8 + 4)
        let header = String(decoding: bytesA[8..<(8 + headerLength)], as: UTF8.self)
        #expect(header.hasPrefix("{\"Mid\":{\"data_offsets\":[52,56],\"dtype\":\"F32\",\"shape\":[]}"))
        #expect(header.trimmingCharacters(in: .whitespaces).hasSuffix("}"))
        let keys = ["\"Mid\"", "\"__metadata__\"", "\"alpha\"", "\"zeta\""].map { header.range(of: $0)?.lowerBound }
        #expect(keys.allSatisfy { $0 != nil })
        #expect(keys.compactMap { $0 } == keys.compactMap { $0 }.sorted())
    }

    @Test func overwritingReplacesTheFileAndLeavesNoTemporaries() throws {
        let scratch = try Scratch()
        defer { scratch.cleanUp() }
        let url = scratch.file("model.safetensors")
        try SafetensorsFile.write([(name: "w", tensor: Tensor.ones([100]))], to: url)
        try SafetensorsFile.write([(name: "v", tensor: Tensor.zeros([2]))], metadata: ["v": "2"], to: url)
        let file = try SafetensorsFile.read(from: url)
        #expect(file.names == ["v"])
        #expect(file.metadata == ["v": "2"])
        #expect(try scratch.contents() == ["model.safetensors"])
    }
}

@Suite("Safetensors: files written by hand from the specification")
struct SafetensorsHandBuiltTests {
    @Test func halfBFloatIntegersAndPaddedHeader() throws {
        // F16: 1, -2, 65504 (largest), 2^-24 (smallest subnormal), +inf, -0, 0.333251953125 (0x3555), 2^-14 (smallest normal)
        let halves: [UInt16] = [0x3C00, 0xC000, 0x7BFF, 0x0001, 0x7C00, 0x8000, 0x3555, 0x0400]
        // BF16: 1, -3.5, the top half of pi's float32 bits
        let bfloats: [UInt16] = [0x3F80, 0xC060, 0x4049]
        let longs: [Int64] = [-1, 0, 1 << 40, .max]
        let ints: [Int32] = [7, -8]
        let single = littleEndianBytes([Float(2.5).bitPattern])
        // Data deliberately not in the header's key order.
        var data: [UInt8] = []
        data += littleEndianBytes(longs)         // [0, 32)
        data += littleEndianBytes(halves)        // [32, 48)
        data += single                           // [48, 52)
        data += littleEndianBytes(bfloats)       // [52, 58)
        data += littleEndianBytes(ints)          // [58, 66)
        let header = """
        {"b": {"dtype": "BF16", "shape": [3], "data_offsets": [52, 58]},
         "__metadata__": {"format": "pt", "note": "hand made"},
         "half": {"dtype": "F16", "shape": [2, 4], "data_offsets": [32, 48]},
         "ids": {"dtype": "I64", "shape": [2, 2], "data_offsets": [0, 32], "extra": "ignored"},
         "small": {"dtype": "I32", "shape": [2], "data_offsets": [58, 66]},
         "s": {"dtype": "F32", "shape": [], "data_offsets": [48, 52]},
         "nothing": {"dtype": "F64", "shape": [0, 5], "data_offsets": [66, 66]}}
        """
        let bytes = fileBytes(header: header, data: data, padTo: 64)
        let file = try SafetensorsFile(bytes: bytes, fileName: "hand.safetensors")
        #expect(file.metadata == ["format": "pt", "note": "hand made"])
        #expect(file.names == ["ids", "half", "s", "b", "small", "nothing"])

        let half = try file.tensor(named: "half")
        #expect(half.dtype == .float32 && half.shape == [2, 4])
        let h = half.toFloatArray()
        #expect(h[0] == 1 && h[1] == -2 && h[2] == 65504 && h[3] == Float(sign: .plus, exponent: -24, significand: 1))
        #expect(h[4] == .infinity && h[5] == 0 && h[5].sign == .minus && h[6] == 0.333251953125)
        #expect(h[7] == Float(sign: .plus, exponent: -14, significand: 1))

        let b = try file.tensor(named: "b")
        #expect(b.dtype == .float32)
        #expect(b.toFloatArray() == [1, -3.5, Float(bitPattern: 0x4049_0000)])
        #expect(try file.tensor(named: "s").item() == 2.5)
        #expect(try file.tensor(named: "nothing").shape == [0, 5])
        #expect(try file.tensor(named: "nothing").dtype == .float64)

        #expect(try file.indices(named: "ids") == IndexTensor(shape: [2, 2], longs.map { Int($0) }))
        #expect(try file.indices(named: "small") == IndexTensor(shape: [2], [7, -8]))
        #expect(try file.info(named: "ids").dataOffsets == 0..<32)
    }

    @Test func halfToFloatIsExactForEveryBitPattern() {
        for bits in 0...UInt16.max {
            let f = SafetensorsFile.floatFromHalf(bits)
            let exponent = (bits >> 10) & 0x1F, mantissa = bits & 0x3FF
            if exponent == 0x1F {
                #expect(mantissa == 0 ? f.isInfinite : f.isNaN)
                continue
            }
            let magnitude = exponent == 0
                ? Double(mantissa) * 0x1p-24
                : (1 + Double(mantissa) / 1024) * pow(2, Double(Int(exponent) - 15))
            let expected = bits & 0x8000 != 0 ? -magnitude : magnitude
            if Double(f) != expected || (f.sign == .minus) != (bits & 0x8000 != 0) {
                Issue.record("half 0x\(String(bits, radix: 16)) gave \(f), expected \(expected)")
                return
            }
        }
    }

    @Test func emptyHeaderObjectIsAnEmptyFile() throws {
        let file = try SafetensorsFile(bytes: fileBytes(header: "{}", padTo: 8))
        #expect(file.names.isEmpty && file.metadata.isEmpty)
    }
}

@Suite("Safetensors: damaged and hostile files give clear errors")
struct SafetensorsErrorTests {
    static func valid() throws -> Data {
        try SafetensorsFile.encode([
            (name: "a", tensor: Tensor(shape: [2, 2], [1, 2, 3, 4] as [Float])),
            (name: "b", tensor: Tensor(shape: [3], [5, 6, 7], dtype: .float64)),
        ], metadata: ["k": "v"])
    }

    @Test func missingFileAndDirectory() throws {
        let scratch = try Scratch()
        defer { scratch.cleanUp() }
        let missing = scratch.file("nope.safetensors")
        expectError([missing.path, "check the path"], { if case .fileNotFound = $0 { true } else { false } }) {
            _ = try SafetensorsFile.read(from: missing)
        }
        expectError(["is a directory", "inside it"], { if case .isDirectory = $0 { true } else { false } }) {
            _ = try SafetensorsFile.read(from: scratch.url)
        }
    }

    /// A FIFO or a device would block or never end if read whole: refused at once.
    @Test func fifoAndDeviceAreRefused() throws {
        let scratch = try Scratch()
        defer { scratch.cleanUp() }
        let fifo = scratch.file("pipe.safetensors")
        #expect(mkfifo(fifo.path, 0o600) == 0)
        for url in [fifo, URL(fileURLWithPath: "/dev/zero")] {
            expectError(["not a regular file"], { $0 == .notARegularFile(path: url.path) }) {
                _ = try SafetensorsFile.read(from: url)
            }
        }
    }

    @Test func unreadableFile() throws {
        let scratch = try Scratch()
        defer { scratch.cleanUp() }
        let url = scratch.file("locked.safetensors")
        try Self.valid().write(to: url)
        try FileManager.default.setAttributes([.posixPermissions: 0], ofItemAtPath: url.path)
        // Root can read anything; only check the error where permissions are enforced.
        guard (try? Data(contentsOf: url)) == nil else { return }
        expectError(["cannot read", "permission"], { if case .unreadable = $0 { true } else { false } }) {
            _ = try SafetensorsFile.read(from: url)
        }
    }

    @Test func tooShortForTheLengthField() throws {
        let scratch = try Scratch()
        defer { scratch.cleanUp() }
        for count in [0, 1, 7] {
            let url = scratch.file("short\(count).safetensors")
            try Data(repeating: 0, count: count).write(to: url)
            expectError(["short\(count).safetensors", "\(count) byte", "earlier copy"],
                        { if case .fileTooShort(_, count) = $0 { true } else { false } }) {
                _ = try SafetensorsFile.read(from: url)
            }
        }
    }

    @Test func absurdHeaderLength() throws {
        var bytes = try Self.valid()
        // Byte order flipped: a plausible length read big-endian is enormous.
        let length = bytes.prefix(8)
        bytes.replaceSubrange(0..<8, with: length.reversed())
        expectParseError(bytes, ["header is", "not a safetensors file"]) {
            if case .headerLengthTooLarge = $0 { true } else { false }
        }
        expectParseError(fileBytes(header: "{}", headerLength: .max)) {
            if case .headerLengthTooLarge(_, .max, 2) = $0 { true } else { false }
        }
        expectParseError(fileBytes(header: "{}", headerLength: 3)) {
            if case .headerLengthTooLarge(_, 3, 2) = $0 { true } else { false }
        }
    }

    @Test func headerThatIsNotUTF8OrNotJSON() {
        var notUTF8 = fileBytes(header: "{\"a\": 1}")
        notUTF8[10] = 0xFF
        expectParseError(notUTF8, ["UTF-8", "re-export"]) { if case .headerNotUTF8 = $0 { true } else { false } }
        for text in ["{\"a\": ", "", "not json", "{\"a\" 1}", "{'a': 1}", "\u{0}\u{0}\u{0}"] {
            expectParseError(fileBytes(header: text), ["not valid JSON", "bad.safetensors"]) {
                if case .headerNotJSON = $0 { true } else { false }
            }
        }
    }

    @Test func headerEntriesOfTheWrongForm() {
        let cases: [(String, String)] = [
            ("[1, 2]", "must be a JSON object"),
            ("\"text\"", "must be a JSON object"),
            ("{\"w\": 3}", "\"w\""),
            ("{\"w\": {\"shape\": [1], \"data_offsets\": [0, 4]}}", "no \"dtype\""),
            ("{\"w\": {\"dtype\": 1, \"shape\": [1], \"data_offsets\": [0, 4]}}", "\"dtype\" must be a string"),
            ("{\"w\": {\"dtype\": \"F32\", \"data_offsets\": [0, 4]}}", "no \"shape\""),
            ("{\"w\": {\"dtype\": \"F32\", \"shape\": \"1\", \"data_offsets\": [0, 4]}}", "\"shape\" must be"),
            ("{\"w\": {\"dtype\": \"F32\", \"shape\": [-1], \"data_offsets\": [0, 4]}}", "non-negative"),
            ("{\"w\": {\"dtype\": \"F32\", \"shape\": [1.5], \"data_offsets\": [0, 4]}}", "the number 1.5"),
            ("{\"w\": {\"dtype\": \"F32\", \"shape\": [true], \"data_offsets\": [0, 4]}}", "boolean"),
            ("{\"w\": {\"dtype\": \"F32\", \"shape\": [1e30], \"data_offsets\": [0, 4]}}", "\"shape\" must be"),
            ("{\"w\": {\"dtype\": \"F32\", \"shape\": [1]}}", "no \"data_offsets\""),
            ("{\"w\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 4, 8]}}", "two non-negative integers"),
            ("{\"w\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [-4, 0]}}", "two non-negative integers"),
            ("{\"w\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": null}}", "null"),
            ("{\"__metadata__\": [\"a\"]}", "\"__metadata__\""),
            ("{\"__metadata__\": {\"step\": 10}}", "its value for \"step\" must be a string"),
        ]
        for (header, part) in cases {
            expectParseError(fileBytes(header: header, data: [0, 0, 0, 0]), [part, "malformed"]) {
                if case .malformedHeader = $0 { true } else { false }
            }
        }
    }

    @Test func unknownDType() {
        expectParseError(fileBytes(header: "{\"w\": {\"dtype\": \"F33\", \"shape\": [1], \"data_offsets\": [0, 4]}}",
                                   data: [0, 0, 0, 0]), ["\"F33\"", "\"w\"", "F32", "convert"]) {
            if case .unknownDType(_, "w", "F33") = $0 { true } else { false }
        }
        // The dtype names are case-sensitive.
        expectParseError(fileBytes(header: "{\"w\": {\"dtype\": \"f32\", \"shape\": [1], \"data_offsets\": [0, 4]}}",
                                   data: [0, 0, 0, 0])) {
            if case .unknownDType = $0 { true } else { false }
        }
    }

    @Test func shapeThatDisagreesWithTheOffsets() {
        expectParseError(fileBytes(header: "{\"w\": {\"dtype\": \"F32\", \"shape\": [2, 3], \"data_offsets\": [0, 20]}}",
                                   data: Array(repeating: 0, count: 20)), ["needs 24 bytes", "span 20 bytes", "[2, 3]"]) {
            if case .shapeMismatch(_, "w", "F32", [2, 3], 24, [0, 20]) = $0 { true } else { false }
        }
        // A shape whose element count overflows is rejected without trapping, zero dimension or not.
        for shape in ["[4611686018427387904, 4611686018427387904]", "[4611686018427387904, 4, 0]", "[9223372036854775807]"] {
            expectParseError(fileBytes(header: "{\"w\": {\"dtype\": \"F32\", \"shape\": \(shape), \"data_offsets\": [0, 0]}}"),
                             ["more elements than can be addressed"]) {
                if case .shapeMismatch(_, _, _, _, nil, _) = $0 { true } else { false }
            }
        }
    }

    @Test func offsetsBackwardsOverlappingOrWithGaps() {
        expectParseError(fileBytes(header: "{\"w\": {\"dtype\": \"F32\", \"shape\": [0], \"data_offsets\": [8, 4]}}",
                                   data: Array(repeating: 0, count: 8)), ["[8, 4]", "end before they begin"]) {
            if case .invalidOffsets(_, "w", 8, 4) = $0 { true } else { false }
        }
        let overlap = """
        {"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
         "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}}
        """
        expectParseError(fileBytes(header: overlap, data: Array(repeating: 0, count: 12)), ["\"b\"", "overlaps", "\"a\""]) {
            if case .overlappingData(_, "b", "a") = $0 { true } else { false }
        }
        let same = """
        {"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
         "b": {"dtype": "I32", "shape": [2], "data_offsets": [0, 8]}}
        """
        expectParseError(fileBytes(header: same, data: Array(repeating: 0, count: 8))) {
            if case .overlappingData = $0 { true } else { false }
        }
        let gap = """
        {"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]},
         "b": {"dtype": "F32", "shape": [1], "data_offsets": [8, 12]}}
        """
        expectParseError(fileBytes(header: gap, data: Array(repeating: 0, count: 12)), ["4..<8", "belong to no tensor"]) {
            if case .gapInData(_, "b", 4..<8) = $0 { true } else { false }
        }
        let notFromZero = "{\"a\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [4, 8]}}"
        expectParseError(fileBytes(header: notFromZero, data: Array(repeating: 0, count: 8))) {
            if case .gapInData(_, "a", 0..<4) = $0 { true } else { false }
        }
    }

    @Test func truncatedAndOverlongFiles() throws {
        let scratch = try Scratch()
        defer { scratch.cleanUp() }
        let bytes = try Self.valid()
        let url = scratch.file("checkpoint.safetensors")
        try bytes.prefix(bytes.count - 5).write(to: url)
        expectError(["checkpoint.safetensors is truncated", "40 bytes", "only 35", "earlier copy"],
                    { if case .truncated(_, 40, 35) = $0 { true } else { false } }) {
            _ = try SafetensorsFile.read(from: url)
        }
        expectParseError(bytes + [1, 2, 3], ["40 bytes", "43 are present", "appended"]) {
            if case .trailingBytes(_, 40, 43) = $0 { true } else { false }
        }
    }

    @Test func missingTensorListsTheAvailableOnes() throws {
        let file = try SafetensorsFile(bytes: try Self.valid(), fileName: "m.safetensors")
        expectError(["no tensor \"c\"", "\"a\", \"b\"", "check the name"],
                    { if case .tensorNotFound(_, "c", ["a", "b"]) = $0 { true } else { false } }) {
            _ = try file.tensor(named: "c")
        }
        expectError(["no tensor \"c\""], { if case .tensorNotFound = $0 { true } else { false } }) {
            _ = try file.indices(named: "c")
        }
        let many = try SafetensorsFile(bytes: try SafetensorsFile.encode(
            (0..<20).map { (name: "p\($0)", tensor: Tensor.zeros([1])) }))
        expectError(["\"p0\"", "\"p7\"", "(20 in all)"], { if case .tensorNotFound = $0 { true } else { false } }) {
            _ = try many.tensor(named: "q")
        }
        #expect(!(try SafetensorsFile(bytes: fileBytes(header: "{}"))).contains("a"))
        expectError(["holds no tensors"], { if case .tensorNotFound = $0 { true } else { false } }) {
            _ = try SafetensorsFile(bytes: fileBytes(header: "{}")).tensor(named: "a")
        }
    }

    @Test func wrongDTypeRequested() throws {
        let header = """
        {"ids": {"dtype": "I64", "shape": [1], "data_offsets": [0, 8]},
         "big": {"dtype": "U64", "shape": [1], "data_offsets": [8, 16]},
         "w": {"dtype": "F32", "shape": [1], "data_offsets": [16, 20]}}
        """
        let file = try SafetensorsFile(bytes: fileBytes(header: header, data: Array(repeating: 0, count: 20)))
        expectError(["\"ids\"", "I64", "indices(named:)"],
                    { if case .wrongDType(_, "ids", "I64", .floatingPoint) = $0 { true } else { false } }) {
            _ = try file.tensor(named: "ids")
        }
        expectError(["\"w\"", "F32", "tensor(named:)"],
                    { if case .wrongDType(_, "w", "F32", .integer) = $0 { true } else { false } }) {
            _ = try file.indices(named: "w")
        }
        expectError(["U64", "convert"], { if case .wrongDType(_, "big", "U64", .integer) = $0 { true } else { false } }) {
            _ = try file.indices(named: "big")
        }
        expectError(["U64", "convert"], { if case .wrongDType(_, "big", "U64", .floatingPoint) = $0 { true } else { false } }) {
            _ = try file.tensor(named: "big")
        }
        #expect(try file.indices(named: "ids") == IndexTensor(shape: [1], [0]))
    }

    /// Every prefix of a valid file and many random corruptions of it either parse or throw; none crashes.
    @Test func corruptedBytesNeverCrash() throws {
        let bytes = try Self.valid()
        for n in 0..<bytes.count {
            #expect(throws: SafetensorsError.self) { _ = try SafetensorsFile(bytes: bytes.prefix(n)) }
        }
        var rng = RandomGenerator(seed: 3)
        var parsed = 0
        for _ in 0..<3000 {
            var corrupt = bytes
            for _ in 0..<(1 + Int(rng.nextUniform() * 3)) {
                let at = Int(rng.nextUniform() * Double(corrupt.count))
                corrupt[at] = UInt8(Int(rng.nextUniform() * 256) & 0xFF)
            }
            do {
                let file = try SafetensorsFile(bytes: corrupt)
                for name in file.names {
                    _ = try? file.tensor(named: name)
                    _ = try? file.indices(named: name)
                }
                parsed += 1
            } catch is SafetensorsError {
            } catch {
                Issue.record("a non-Safetensors error escaped: \(error)")
            }
        }
        #expect(parsed > 0)  // corruptions of tensor data (not the header) still parse
    }

    /// A slice of a larger `Data` (non-zero start index) is read correctly.
    @Test func dataSliceWithOffsetIndices() throws {
        let bytes = try Self.valid()
        let padded = Data([9, 9, 9]) + bytes
        let file = try SafetensorsFile(bytes: padded[3...])
        #expect(try file.tensor(named: "b").toArray() == [5, 6, 7])
    }
}

@Suite("Safetensors: writing is atomic")
struct SafetensorsAtomicWriteTests {
    static let old: [(name: String, tensor: Tensor)] = [(name: "old", tensor: Tensor.ones([4]))]

    @Test func missingParentDirectory() throws {
        let scratch = try Scratch()
        defer { scratch.cleanUp() }
        let url = scratch.url.appendingPathComponent("no/such/dir/model.safetensors")
        expectError(["does not exist", "create it first"], { if case .directoryMissing = $0 { true } else { false } }) {
            try SafetensorsFile.write(Self.old, to: url)
        }
        #expect(try scratch.contents().isEmpty)
    }

    @Test func destinationIsADirectory() throws {
        let scratch = try Scratch()
        defer { scratch.cleanUp() }
        let url = scratch.file("model.safetensors")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: false)
        expectError(["directory is in the way"], { if case .destinationIsDirectory = $0 { true } else { false } }) {
            try SafetensorsFile.write(Self.old, to: url)
        }
        #expect(try scratch.contents() == ["model.safetensors"])
    }

    @Test func invalidNamesLeaveTheOldFileIntact() throws {
        let scratch = try Scratch()
        defer { scratch.cleanUp() }
        let url = scratch.file("model.safetensors")
        try SafetensorsFile.write(Self.old, to: url)
        let before = try Data(contentsOf: url)
        let bad: [[(name: String, tensor: Tensor)]] = [
            [(name: "a", tensor: Tensor.ones([1])), (name: "a", tensor: Tensor.ones([2]))],
            [(name: "__metadata__", tensor: Tensor.ones([1]))],
            [(name: "", tensor: Tensor.ones([1]))],
        ]
        for tensors in bad {
            expectError(["cannot write tensor name", "distinct"], { if case .invalidTensorName = $0 { true } else { false } }) {
                try SafetensorsFile.write(tensors, to: url)
            }
        }
        #expect(try Data(contentsOf: url) == before)
        #expect(try scratch.contents() == ["model.safetensors"])
    }

    @Test func failureMidWriteRemovesTheTemporaryAndKeepsTheOldFile() throws {
        struct Interrupted: Error {}
        let scratch = try Scratch()
        defer { scratch.cleanUp() }
        let url = scratch.file("model.safetensors")
        try SafetensorsFile.write(Self.old, to: url)
        let before = try Data(contentsOf: url)
        #expect(throws: Interrupted.self) {
            try AtomicFile.write(to: url) { sink in
                try [UInt8](repeating: 42, count: 100_000).withUnsafeBytes { try sink($0) }
                // The temporary exists beside the destination while it is being written.
                #expect(try scratch.contents().count == 2)
                throw Interrupted()
            }
        }
        #expect(try Data(contentsOf: url) == before)
        #expect(try scratch.contents() == ["model.safetensors"])
    }

    @Test func readOnlyDirectory() throws {
        let scratch = try Scratch()
        defer { scratch.cleanUp() }
        let url = scratch.file("model.safetensors")
        try SafetensorsFile.write(Self.old, to: url)
        let before = try Data(contentsOf: url)
        try FileManager.default.setAttributes([.posixPermissions: 0o555], ofItemAtPath: scratch.url.path)
        // Root ignores directory permissions; only check the error where they are enforced.
        let probe = scratch.file("probe")
        if FileManager.default.createFile(atPath: probe.path, contents: Data()) {
            try? FileManager.default.removeItem(at: probe)
            return
        }
        expectError(["temporary file", "unchanged", "permission"], { if case .writeFailed = $0 { true } else { false } }) {
            try SafetensorsFile.write([(name: "new", tensor: Tensor.zeros([2]))], to: url)
        }
        #expect(try Data(contentsOf: url) == before)
        #expect(try scratch.contents() == ["model.safetensors"])
    }
}
