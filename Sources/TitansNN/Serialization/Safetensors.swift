import Foundation
#if canImport(Darwin)
import Darwin
#elseif canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

// Safetensors: a flat file of named tensors, written from the format's public description.
//
//     [8 bytes]  N, the header length, as a little-endian UInt64
//     [N bytes]  UTF-8 JSON: {"name": {"dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end]}, …,
//                             "__metadata__": {"key": "value", …}}   (metadata optional; may end in spaces)
//     [rest]     the tensors' little-endian, row-major bytes; offsets count from the first byte after the header,
//                and the regions neither overlap nor leave gaps: together they cover the rest exactly.

/// The element types the safetensors format names, with their on-disk spelling.
///
/// ```swift
/// let file = try SafetensorsFile.read(from: url)
/// let kinds = file.infos.map(\.dtype)   // .float32, .bfloat16, .int64, …
/// ```
public enum SafetensorsDType: String, Sendable, CaseIterable, CustomStringConvertible {
    case bool = "BOOL"
    case uint8 = "U8"
    case int8 = "I8"
    case float8E5M2 = "F8_E5M2"
    case float8E4M3 = "F8_E4M3"
    case int16 = "I16"
    case uint16 = "U16"
    case float16 = "F16"
    case bfloat16 = "BF16"
    case int32 = "I32"
    case uint32 = "U32"
    case float32 = "F32"
    case float64 = "F64"
    case int64 = "I64"
    case uint64 = "U64"

    /// Bytes per element.
    public var byteCount: Int {
        switch self {
        case .bool, .uint8, .int8, .float8E5M2, .float8E4M3: return 1
        case .int16, .uint16, .float16, .bfloat16: return 2
        case .int32, .uint32, .float32: return 4
        case .float64, .int64, .uint64: return 8
        }
    }

    /// Whether ``SafetensorsFile/tensor(named:)`` can read it (F32, F64, and F16/BF16 widened to float32).
    public var isReadableAsTensor: Bool {
        switch self {
        case .float32, .float64, .float16, .bfloat16: return true
        default: return false
        }
    }

    /// Whether ``SafetensorsFile/indices(named:)`` can read it (the integer types that fit in `Int`, and BOOL).
    public var isReadableAsIndices: Bool {
        switch self {
        case .bool, .uint8, .int8, .int16, .uint16, .int32, .uint32, .int64: return true
        default: return false
        }
    }

    public var description: String { rawValue }
}

/// A safetensors file read into memory: its metadata and its tensors, validated when it was read.
///
/// ```swift
/// try SafetensorsFile.write(model.namedParameters(), metadata: ["step": "1000"], to: url)
/// let file = try SafetensorsFile.read(from: url)
/// let w = try file.tensor(named: "layers.0.weight")
/// ```
///
/// Reading checks the whole header before any tensor is handed out, so a damaged or hostile file is rejected
/// with a ``SafetensorsError`` (never a crash) that says what is wrong and what to do about it.
public struct SafetensorsFile: Sendable {
    /// One tensor's entry in the header.
    ///
    /// ```swift
    /// for info in try SafetensorsFile.read(from: url).infos { print(info.name, info.dtype, info.shape) }
    /// ```
    public struct TensorInfo: Sendable, Equatable {
        public let name: String
        public let dtype: SafetensorsDType
        public let shape: [Int]
        /// Byte range within the data section (after the header), as in the header's `data_offsets`.
        public let dataOffsets: Range<Int>

        /// The number of elements.
        public var count: Int { shape.reduce(1, *) }
    }

    /// The file's name, used in error messages.
    public let fileName: String
    /// The header's `__metadata__`; empty when there is none.
    public let metadata: [String: String]
    /// Every tensor's entry, in the order its data lies in the file.
    public let infos: [TensorInfo]

    /// The bytes of the whole file.
    let bytes: Data
    /// Where the data section starts in `bytes`.
    let dataStart: Int
    private let infoByName: [String: TensorInfo]

    /// Tensor names in the order their data lies in the file (for files written by ``write(_:metadata:to:)``,
    /// the order they were given in).
    public var names: [String] { infos.map(\.name) }

    /// Whether the file holds a tensor called `name`.
    public func contains(_ name: String) -> Bool { infoByName[name] != nil }

    // MARK: Reading

    /// Reads and validates the safetensors file at `url` (read once, in full).
    public static func read(from url: URL) throws -> SafetensorsFile {
        let path = url.path
        guard url.isFileURL else {
            throw SafetensorsError.unreadable(path: url.absoluteString, reason: "it is not a file URL")
        }
        switch FileKind(path: path) {
        case .missing: throw SafetensorsError.fileNotFound(path: path)
        case .directory: throw SafetensorsError.isDirectory(path: path)
        case .special: throw SafetensorsError.notARegularFile(path: path)
        case .regular: break
        }
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw SafetensorsError.unreadable(path: path, reason: Self.reason(error))
        }
        return try SafetensorsFile(bytes: data, fileName: url.lastPathComponent)
    }

    /// Parses and validates safetensors bytes held in memory; `fileName` names them in error messages.
    public init(bytes: Data, fileName: String = "safetensors data") throws {
        // Work on a zero-based copy of the view so that offsets are plain integers.
        let bytes = bytes.startIndex == 0 ? bytes : Data(bytes)
        let total = bytes.count
        guard total >= 8 else { throw SafetensorsError.fileTooShort(file: fileName, byteCount: total) }
        let rawLength = bytes.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
        guard rawLength <= UInt64(total - 8), let headerLength = Int(exactly: rawLength) else {
            throw SafetensorsError.headerLengthTooLarge(file: fileName, headerLength: rawLength, available: total - 8)
        }
        let dataStart = 8 + headerLength
        let headerBytes = bytes.subdata(in: 8..<dataStart)
        guard String(bytes: headerBytes, encoding: .utf8) != nil else {
            throw SafetensorsError.headerNotUTF8(file: fileName)
        }
        let json: JSONValue
        do {
            json = try JSONDecoder().decode(JSONValue.self, from: headerBytes)
        } catch {
            throw SafetensorsError.headerNotJSON(file: fileName, reason: Self.reason(error))
        }
        let (metadata, unordered) = try Self.parseHeader(json, fileName: fileName)
        let infos = try Self.validateLayout(unordered, dataByteCount: total - dataStart, fileName: fileName)

        self.fileName = fileName
        self.metadata = metadata
        self.infos = infos
        self.bytes = bytes
        self.dataStart = dataStart
        self.infoByName = Dictionary(infos.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
    }

    /// The header entry of `name`.
    public func info(named name: String) throws -> TensorInfo {
        guard let info = infoByName[name] else {
            throw SafetensorsError.tensorNotFound(file: fileName, name: name, available: names)
        }
        return info
    }

    /// The tensor called `name`: F32 as float32, F64 as float64, F16 and BF16 widened to float32.
    public func tensor(named name: String) throws -> Tensor {
        let info = try info(named: name)
        let n = info.count
        return try withData(of: info) { raw -> Tensor in
            switch info.dtype {
            case .float32:
                let values = Self.floats(raw, count: n)
                return n == 0 ? Tensor.zeros(info.shape) : Tensor(shape: info.shape, values)
            case .float64:
                var values = [Double](repeating: 0, count: n)
                #if _endian(little)
                values.withUnsafeMutableBytes { $0.copyMemory(from: raw) }
                #else
                for i in 0..<n { values[i] = Double(bitPattern: Self.load(raw, i, UInt64.self)) }
                #endif
                return n == 0 ? Tensor.zeros(info.shape, dtype: .float64) : Tensor(shape: info.shape, values, dtype: .float64)
            case .float16:
                let values = (0..<n).map { Self.floatFromHalf(Self.load(raw, $0, UInt16.self)) }
                return n == 0 ? Tensor.zeros(info.shape) : Tensor(shape: info.shape, values)
            case .bfloat16:
                let values = (0..<n).map { Float(bitPattern: UInt32(Self.load(raw, $0, UInt16.self)) << 16) }
                return n == 0 ? Tensor.zeros(info.shape) : Tensor(shape: info.shape, values)
            default:
                throw SafetensorsError.wrongDType(file: fileName, tensor: name, dtype: info.dtype.rawValue,
                                                  requested: .floatingPoint)
            }
        }
    }

    /// The integer tensor called `name` (I64, I32, I16, I8, U32, U16, U8 or BOOL) as indices.
    public func indices(named name: String) throws -> IndexTensor {
        let info = try info(named: name)
        let n = info.count
        return try withData(of: info) { raw -> IndexTensor in
            let values: [Int]
            switch info.dtype {
            case .int64: values = (0..<n).map { Int(truncatingIfNeeded: Int64(bitPattern: Self.load(raw, $0, UInt64.self))) }
            case .int32: values = (0..<n).map { Int(Int32(bitPattern: Self.load(raw, $0, UInt32.self))) }
            case .uint32: values = (0..<n).map { Int(Self.load(raw, $0, UInt32.self)) }
            case .int16: values = (0..<n).map { Int(Int16(bitPattern: Self.load(raw, $0, UInt16.self))) }
            case .uint16: values = (0..<n).map { Int(Self.load(raw, $0, UInt16.self)) }
            case .int8: values = (0..<n).map { Int(Int8(bitPattern: raw[$0])) }
            case .uint8: values = (0..<n).map { Int(raw[$0]) }
            case .bool: values = (0..<n).map { raw[$0] == 0 ? 0 : 1 }
            default:
                throw SafetensorsError.wrongDType(file: fileName, tensor: name, dtype: info.dtype.rawValue,
                                                  requested: .integer)
            }
            return IndexTensor(shape: info.shape, values)
        }
    }

    /// Calls `body` with the bytes of one tensor (already checked to lie within the file).
    private func withData<R>(of info: TensorInfo, _ body: (UnsafeRawBufferPointer) throws -> R) throws -> R {
        try bytes.withUnsafeBytes { all in
            try body(UnsafeRawBufferPointer(rebasing: all[(dataStart + info.dataOffsets.lowerBound)..<(dataStart + info.dataOffsets.upperBound)]))
        }
    }

    private static func floats(_ raw: UnsafeRawBufferPointer, count n: Int) -> [Float] {
        var values = [Float](repeating: 0, count: n)
        #if _endian(little)
        values.withUnsafeMutableBytes { $0.copyMemory(from: raw) }
        #else
        for i in 0..<n { values[i] = Float(bitPattern: load(raw, i, UInt32.self)) }
        #endif
        return values
    }

    @inline(__always)
    private static func load<T: FixedWidthInteger>(_ raw: UnsafeRawBufferPointer, _ i: Int, _: T.Type) -> T {
        T(littleEndian: raw.loadUnaligned(fromByteOffset: i * MemoryLayout<T>.size, as: T.self))
    }

    /// IEEE 754 binary16 to binary32, exactly (every half value is a float value). Done by hand because
    /// `Float16` is unavailable on Intel macOS.
    static func floatFromHalf(_ h: UInt16) -> Float {
        let sign = UInt32(h & 0x8000) << 16
        let exponent = UInt32(h >> 10) & 0x1F
        let mantissa = UInt32(h & 0x3FF)
        if exponent == 0x1F {  // infinity or NaN (payload kept)
            return Float(bitPattern: sign | 0x7F80_0000 | (mantissa << 13))
        }
        if exponent == 0 {  // zero or subnormal: mantissa · 2^-24
            let magnitude = Float(mantissa) * Float(sign: .plus, exponent: -24, significand: 1)
            return sign != 0 ? -magnitude : magnitude
        }
        return Float(bitPattern: sign | ((exponent + 112) << 23) | (mantissa << 13))
    }

    // MARK: Header validation

    private static func parseHeader(_ json: JSONValue, fileName: String) throws -> ([String: String], [TensorInfo]) {
        guard case .object(let object) = json else {
            throw SafetensorsError.malformedHeader(
                file: fileName, entry: nil,
                problem: "the header must be a JSON object mapping tensor names to entries, but it is \(json.kind)")
        }
        var metadata: [String: String] = [:]
        var infos: [TensorInfo] = []
        // Sorted so that a file with several bad entries always reports the same one.
        for key in object.keys.sorted() {
            guard let value = object[key] else { continue }
            if key == "__metadata__" {
                guard case .object(let pairs) = value else {
                    throw SafetensorsError.malformedHeader(file: fileName, entry: key,
                                                           problem: "it must be an object of strings, but it is \(value.kind)")
                }
                for (k, v) in pairs {
                    guard case .string(let s) = v else {
                        throw SafetensorsError.malformedHeader(
                            file: fileName, entry: key, problem: "its value for \"\(k)\" must be a string, but it is \(v.kind)")
                    }
                    metadata[k] = s
                }
                continue
            }
            infos.append(try parseEntry(key, value, fileName: fileName))
        }
        return (metadata, infos)
    }

    private static func parseEntry(_ name: String, _ value: JSONValue, fileName: String) throws -> TensorInfo {
        func malformed(_ problem: String) -> SafetensorsError {
            .malformedHeader(file: fileName, entry: name, problem: problem)
        }
        guard case .object(let fields) = value else {
            throw malformed("it must be an object with \"dtype\", \"shape\" and \"data_offsets\", but it is \(value.kind)")
        }
        guard let dtypeValue = fields["dtype"] else { throw malformed("it has no \"dtype\"") }
        guard case .string(let dtypeName) = dtypeValue else {
            throw malformed("its \"dtype\" must be a string such as \"F32\", but it is \(dtypeValue.kind)")
        }
        guard let shapeValue = fields["shape"] else { throw malformed("it has no \"shape\"") }
        guard case .array(let dims) = shapeValue else {
            throw malformed("its \"shape\" must be a list of non-negative integers, but it is \(shapeValue.kind)")
        }
        var shape: [Int] = []
        for dim in dims {
            guard case .int(let d) = dim, d >= 0 else {
                throw malformed("its \"shape\" must be a list of non-negative integers, but it contains \(dim.kind)")
            }
            shape.append(d)
        }
        guard let offsetsValue = fields["data_offsets"] else { throw malformed("it has no \"data_offsets\"") }
        guard case .array(let offsets) = offsetsValue, offsets.count == 2,
              case .int(let begin) = offsets[0], case .int(let end) = offsets[1], begin >= 0, end >= 0 else {
            throw malformed("its \"data_offsets\" must be two non-negative integers [begin, end], but it is \(offsetsValue.kind)")
        }
        guard let dtype = SafetensorsDType(rawValue: dtypeName) else {
            throw SafetensorsError.unknownDType(file: fileName, tensor: name, dtype: dtypeName)
        }
        guard begin <= end else {
            throw SafetensorsError.invalidOffsets(file: fileName, tensor: name, begin: begin, end: end)
        }
        // Guarded product: the element count of every dimension but the zero ones, times the element size, must
        // fit in an Int (so that strides can be computed too), and then the bytes must match the offsets.
        var nonZeroProduct = dtype.byteCount
        var overflow = false
        for d in shape where d != 0 {
            let (p, o) = nonZeroProduct.multipliedReportingOverflow(by: d)
            if o { overflow = true; break }
            nonZeroProduct = p
        }
        let expected: Int? = overflow ? nil : (shape.contains(0) ? 0 : nonZeroProduct)
        guard let expected, expected == end - begin else {
            throw SafetensorsError.shapeMismatch(file: fileName, tensor: name, dtype: dtypeName, shape: shape,
                                                 expectedByteCount: expected, dataOffsets: [begin, end])
        }
        return TensorInfo(name: name, dtype: dtype, shape: shape, dataOffsets: begin..<end)
    }

    /// Orders the entries by position and checks that they tile the data section exactly.
    private static func validateLayout(_ infos: [TensorInfo], dataByteCount: Int, fileName: String) throws -> [TensorInfo] {
        let sorted = infos.sorted {
            ($0.dataOffsets.lowerBound, $0.dataOffsets.upperBound) < ($1.dataOffsets.lowerBound, $1.dataOffsets.upperBound)
                || ($0.dataOffsets == $1.dataOffsets && $0.name < $1.name)
        }
        let needed = sorted.map(\.dataOffsets.upperBound).max() ?? 0
        if needed > dataByteCount {
            throw SafetensorsError.truncated(file: fileName, expectedByteCount: needed, actualByteCount: dataByteCount)
        }
        var cursor = 0
        var previous: String?
        for info in sorted {
            if info.dataOffsets.lowerBound < cursor {
                throw SafetensorsError.overlappingData(file: fileName, tensor: info.name, other: previous ?? "")
            }
            if info.dataOffsets.lowerBound > cursor {
                throw SafetensorsError.gapInData(file: fileName, before: info.name, gap: cursor..<info.dataOffsets.lowerBound)
            }
            cursor = info.dataOffsets.upperBound
            if !info.dataOffsets.isEmpty { previous = info.name }
        }
        if cursor < dataByteCount {
            throw SafetensorsError.trailingBytes(file: fileName, expectedByteCount: cursor, actualByteCount: dataByteCount)
        }
        return sorted
    }

    static func reason(_ error: Error) -> String {
        if let decoding = error as? DecodingError {
            switch decoding {
            case .dataCorrupted(let context): return describe(context)
            case .keyNotFound(_, let context): return describe(context)
            case .typeMismatch(_, let context): return describe(context)
            case .valueNotFound(_, let context): return describe(context)
            @unknown default: return "\(decoding)"
            }
        }
        return (error as NSError).localizedDescription
    }

    private static func describe(_ context: DecodingError.Context) -> String {
        if let underlying = context.underlyingError { return "\(context.debugDescription) (\(underlying))" }
        return context.debugDescription
    }

    // MARK: Writing

    /// Writes float32/float64 tensors, in the given order, with `metadata` to `url`, atomically: the bytes go to a
    /// temporary file beside `url` that is flushed to disk and then renamed over it, so `url` either keeps its old
    /// contents or has all the new ones. Header keys are sorted, so the same input always gives the same bytes.
    public static func write(_ tensors: [(name: String, tensor: Tensor)], metadata: [String: String] = [:],
                             to url: URL) throws {
        let header = try headerBytes(tensors, metadata: metadata)
        try AtomicFile.write(to: url) { sink in
            try header.withUnsafeBytes { try sink($0) }
            for (_, tensor) in tensors { try withLittleEndianBytes(of: tensor, sink) }
        }
    }

    /// The bytes ``write(_:metadata:to:)`` would write.
    public static func encode(_ tensors: [(name: String, tensor: Tensor)], metadata: [String: String] = [:]) throws -> Data {
        var out = try headerBytes(tensors, metadata: metadata)
        for (_, tensor) in tensors { withLittleEndianBytes(of: tensor) { out.append(contentsOf: $0) } }
        return out
    }

    /// The length prefix and the space-padded JSON header, 8-byte aligned.
    private static func headerBytes(_ tensors: [(name: String, tensor: Tensor)], metadata: [String: String]) throws -> Data {
        let layout = try layout(of: tensors)
        var entries: [(key: String, json: String)] = layout.map { info in
            let (begin, end) = (info.dataOffsets.lowerBound, info.dataOffsets.upperBound)
            let shape = info.shape.map(String.init).joined(separator: ",")
            return (info.name, "{\"data_offsets\":[\(begin),\(end)],\"dtype\":\"\(info.dtype.rawValue)\",\"shape\":[\(shape)]}")
        }
        let offset = layout.last?.dataOffsets.upperBound ?? 0
        if !metadata.isEmpty {
            let pairs = metadata.sorted { utf8Less($0.key, $1.key) }
                .map { "\(jsonString($0.key)):\(jsonString($0.value))" }
            entries.append(("__metadata__", "{" + pairs.joined(separator: ",") + "}"))
        }
        entries.sort { utf8Less($0.key, $1.key) }
        var json = Array(("{" + entries.map { "\(jsonString($0.key)):\($0.json)" }.joined(separator: ",") + "}").utf8)
        while (8 + json.count) % 8 != 0 { json.append(UInt8(ascii: " ")) }
        var out = Data(capacity: 8 + json.count + offset)
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { out.append(contentsOf: $0) }
        out.append(contentsOf: json)
        return out
    }

    /// The header entries of `tensors` written in this order, each name checked.
    static func layout(of tensors: [(name: String, tensor: Tensor)]) throws -> [TensorInfo] {
        var seen = Set<String>()
        var infos: [TensorInfo] = []
        var offset = 0
        for (name, tensor) in tensors {
            if name.isEmpty { throw SafetensorsError.invalidTensorName(name: name, problem: "it is empty") }
            if name == "__metadata__" {
                throw SafetensorsError.invalidTensorName(name: name, problem: "the format reserves it for metadata")
            }
            if !seen.insert(name).inserted {
                throw SafetensorsError.invalidTensorName(name: name, problem: "it is given more than once")
            }
            let byteCount = tensor.count * tensor.dtype.byteCount
            infos.append(TensorInfo(name: name, dtype: tensor.dtype == .float32 ? .float32 : .float64, shape: tensor.shape,
                                    dataOffsets: offset..<(offset + byteCount)))
            offset += byteCount
        }
        return infos
    }

    /// Byte-wise (UTF-8) order: the same on every platform and locale.
    static func utf8Less(_ a: String, _ b: String) -> Bool { a.utf8.lexicographicallyPrecedes(b.utf8) }

    /// A JSON string literal; non-ASCII characters are written as UTF-8, control characters escaped.
    static func jsonString(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    /// Calls `body` with a tensor's elements in row-major, little-endian order (copying only when it must).
    static func withLittleEndianBytes(of tensor: Tensor, _ body: (UnsafeRawBufferPointer) throws -> Void) rethrows {
        switch tensor.dtype {
        case .float32:
            #if _endian(little)
            if tensor.isContiguous {
                try tensor.withUnsafeFloatPointer { try body(UnsafeRawBufferPointer(start: $0, count: tensor.count * 4)) }
                return
            }
            try tensor.toFloatArray().withUnsafeBytes(body)
            #else
            try tensor.toFloatArray().map { $0.bitPattern.littleEndian }.withUnsafeBytes(body)
            #endif
        case .float64:
            #if _endian(little)
            try tensor.toArray().withUnsafeBytes(body)
            #else
            try tensor.toArray().map { $0.bitPattern.littleEndian }.withUnsafeBytes(body)
            #endif
        }
    }
}

// MARK: - Errors

/// Why a safetensors file could not be read or written. Each message says what is wrong and what to do.
///
/// ```swift
/// do { _ = try SafetensorsFile.read(from: url) } catch let error as SafetensorsError { print(error) }
/// ```
public enum SafetensorsError: Error, CustomStringConvertible, Equatable, Sendable {
    /// What a caller asked for when the dtype did not fit.
    ///
    /// ```swift
    /// // SafetensorsError.wrongDType(…, requested: .floatingPoint): integers asked for as a float tensor
    /// ```
    public enum Requested: Sendable, Equatable {
        case floatingPoint
        case integer
    }

    case fileNotFound(path: String)
    case isDirectory(path: String)
    /// A FIFO, device or socket, which cannot be read whole.
    case notARegularFile(path: String)
    case unreadable(path: String, reason: String)
    case fileTooShort(file: String, byteCount: Int)
    case headerLengthTooLarge(file: String, headerLength: UInt64, available: Int)
    case headerNotUTF8(file: String)
    case headerNotJSON(file: String, reason: String)
    /// The header, or one entry (`entry`), is valid JSON of the wrong form.
    case malformedHeader(file: String, entry: String?, problem: String)
    case unknownDType(file: String, tensor: String, dtype: String)
    /// `expectedByteCount` is nil when the shape's element count does not even fit in an `Int`.
    case shapeMismatch(file: String, tensor: String, dtype: String, shape: [Int], expectedByteCount: Int?, dataOffsets: [Int])
    case invalidOffsets(file: String, tensor: String, begin: Int, end: Int)
    case overlappingData(file: String, tensor: String, other: String)
    case gapInData(file: String, before: String, gap: Range<Int>)
    case truncated(file: String, expectedByteCount: Int, actualByteCount: Int)
    case trailingBytes(file: String, expectedByteCount: Int, actualByteCount: Int)
    case tensorNotFound(file: String, name: String, available: [String])
    case wrongDType(file: String, tensor: String, dtype: String, requested: Requested)
    case invalidTensorName(name: String, problem: String)
    case directoryMissing(path: String)
    case destinationIsDirectory(path: String)
    case writeFailed(path: String, step: String, reason: String)

    private static let damaged = "the file is damaged or was not written by a safetensors writer — re-export it, or use an earlier copy"

    public var description: String {
        switch self {
        case .fileNotFound(let path):
            return "no file at \(path); check the path (and the working directory, if it is relative)"
        case .notARegularFile(let path):
            return "\(path) is not a regular file (a FIFO, device or socket); copy the safetensors file to disk and pass that"
        case .isDirectory(let path):
            return "\(path) is a directory, not a safetensors file; pass the path of the .safetensors file inside it"
        case .unreadable(let path, let reason):
            return "cannot read \(path): \(reason); check that it is a regular file you have permission to read"
        case .fileTooShort(let file, let count):
            return "\(file) is only \(count) byte\(count == 1 ? "" : "s") long, shorter than the 8-byte header length "
                + "every safetensors file starts with; it is empty or was cut off — use an earlier copy"
        case .headerLengthTooLarge(let file, let length, let available):
            return "\(file) says its header is \(length) bytes long but only \(available) byte\(available == 1 ? "" : "s") follow\(available == 1 ? "s" : "") the length field; "
                + "it is not a safetensors file, or it was cut off inside the header — check the file type, or use an earlier copy"
        case .headerNotUTF8(let file):
            return "\(file): the header is not valid UTF-8 text; " + Self.damaged
        case .headerNotJSON(let file, let reason):
            return "\(file): the header is not valid JSON (\(reason)); " + Self.damaged
        case .malformedHeader(let file, let entry, let problem):
            let subject = entry.map { "header entry \"\($0)\"" } ?? "header"
            return "\(file): \(subject) is malformed: \(problem); " + Self.damaged
        case .unknownDType(let file, let tensor, let dtype):
            let known = SafetensorsDType.allCases.map(\.rawValue).joined(separator: ", ")
            return "\(file): tensor \"\(tensor)\" has dtype \"\(dtype)\", which is not one of \(known); "
                + "it was written by a newer or non-standard tool — convert that tensor to F32 before loading"
        case .shapeMismatch(let file, let tensor, let dtype, let shape, let expected, let offsets):
            let span = offsets.count == 2 ? offsets[1] - offsets[0] : 0
            let needs = expected.map { "needs \($0) bytes" } ?? "has more elements than can be addressed"
            return "\(file): tensor \"\(tensor)\" (\(dtype), shape \(shape)) \(needs), but its data_offsets \(offsets) "
                + "span \(span) bytes; the header is inconsistent — " + Self.damaged
        case .invalidOffsets(let file, let tensor, let begin, let end):
            return "\(file): tensor \"\(tensor)\" has data_offsets [\(begin), \(end)], which end before they begin; " + Self.damaged
        case .overlappingData(let file, let tensor, let other):
            return "\(file): the data of tensor \"\(tensor)\" overlaps that of \"\(other)\"; " + Self.damaged
        case .gapInData(let file, let before, let gap):
            return "\(file): bytes \(gap.lowerBound)..<\(gap.upperBound) of the data (before tensor \"\(before)\") "
                + "belong to no tensor; " + Self.damaged
        case .truncated(let file, let expected, let actual):
            return "\(file) is truncated: the header says there are \(expected) bytes of tensor data but only \(actual) "
                + "are present; the file was probably cut off while being written or copied — use an earlier copy"
        case .trailingBytes(let file, let expected, let actual):
            return "\(file): the header accounts for \(expected) bytes of tensor data but \(actual) are present; "
                + "something was appended to the file or its header lost entries — " + Self.damaged
        case .tensorNotFound(let file, let name, let available):
            let shown = available.prefix(8).map { "\"\($0)\"" }.joined(separator: ", ")
            let more = available.count > 8 ? ", … (\(available.count) in all)" : ""
            let list = available.isEmpty ? "it holds no tensors" : "it holds \(shown)\(more)"
            return "\(file) has no tensor \"\(name)\"; \(list) — check the name, or that this checkpoint "
                + "belongs to the same model configuration"
        case .wrongDType(let file, let tensor, let dtype, let requested):
            switch requested {
            case .floatingPoint:
                let hint = SafetensorsDType(rawValue: dtype)?.isReadableAsIndices == true
                    ? "read it with indices(named:) instead" : "convert it to F32 with the tool that wrote it"
                return "\(file): tensor \"\(tensor)\" has dtype \(dtype), which cannot be read as a float32/float64 "
                    + "tensor; \(hint)"
            case .integer:
                let hint = SafetensorsDType(rawValue: dtype)?.isReadableAsTensor == true
                    ? "read it with tensor(named:) instead" : "convert it to I64 with the tool that wrote it"
                return "\(file): tensor \"\(tensor)\" has dtype \(dtype), which cannot be read as integer indices; \(hint)"
            }
        case .invalidTensorName(let name, let problem):
            return "cannot write tensor name \"\(name)\": \(problem); give every tensor a distinct, non-empty name "
                + "other than \"__metadata__\""
        case .directoryMissing(let path):
            return "cannot write into \(path): the directory does not exist; create it first "
                + "(FileManager.createDirectory(at:withIntermediateDirectories:))"
        case .destinationIsDirectory(let path):
            return "cannot write \(path): a directory is in the way; choose a file name such as \(path)/model.safetensors"
        case .writeFailed(let path, let step, let reason):
            return "writing \(path) failed while \(step): \(reason); the previous file, if any, is unchanged — "
                + "check free disk space and write permission on the directory"
        }
    }
}

// MARK: - Atomic replacement

/// Replaces a file all at once: write a temporary file in the same directory, flush it, rename it over the target.
enum AtomicFile {
    /// Writes what `body` hands to its sink to `url`. On any error the temporary file is removed and `url` is untouched.
    static func write(to url: URL, _ body: (_ sink: (UnsafeRawBufferPointer) throws -> Void) throws -> Void) throws {
        guard url.isFileURL else {
            throw SafetensorsError.writeFailed(path: url.absoluteString, step: "checking the destination", reason: "it is not a file URL")
        }
        let path = url.path
        let directory = url.deletingLastPathComponent().path
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
            throw SafetensorsError.destinationIsDirectory(path: path)
        }
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw SafetensorsError.directoryMissing(path: directory)
        }
        let temporary = url.deletingLastPathComponent()
            .appendingPathComponent(".\(url.lastPathComponent).\(UUID().uuidString).tmp").path
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw SafetensorsError.writeFailed(path: path, step: "creating a temporary file in \(directory)", reason: errnoText())
        }
        var isOpen = true
        var done = false
        defer {
            if isOpen { _ = close(fd) }
            if !done { _ = unlink(temporary) }
        }
        try body { buffer in
            guard var next = buffer.baseAddress else { return }
            var left = buffer.count
            while left > 0 {
                let n = posixWrite(fd, next, left)
                if n < 0 {
                    if errno == EINTR { continue }
                    throw SafetensorsError.writeFailed(path: path, step: "writing the temporary file", reason: errnoText())
                }
                next += n
                left -= n
            }
        }
        // Some file systems cannot sync (EINVAL/ENOTSUP); the rename below is still atomic there.
        if fsync(fd) != 0 && errno != EINVAL && errno != ENOTSUP {
            throw SafetensorsError.writeFailed(path: path, step: "flushing the temporary file to disk", reason: errnoText())
        }
        isOpen = false
        if close(fd) != 0 {
            throw SafetensorsError.writeFailed(path: path, step: "closing the temporary file", reason: errnoText())
        }
        if rename(temporary, path) != 0 {
            throw SafetensorsError.writeFailed(path: path, step: "renaming the temporary file over it", reason: errnoText())
        }
        done = true
        // Make the rename itself durable where directories can be synced; best effort.
        let directoryFD = open(directory, O_RDONLY)
        if directoryFD >= 0 {
            _ = fsync(directoryFD)
            _ = close(directoryFD)
        }
    }

    private static func errnoText() -> String {
        let code = errno
        return "\(String(cString: strerror(code))) (errno \(code))"
    }
}

@inline(__always)
private func posixWrite(_ fd: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int {
    write(fd, buffer, count)
}

// MARK: - JSON

/// A parsed JSON value that keeps booleans, integers and other numbers apart (JSONSerialization does not).
private enum JSONValue: Decodable {
    case null
    case bool(Bool)
    case int(Int)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null; return }
        if let v = try? c.decode(Bool.self) { self = .bool(v); return }
        if let v = try? c.decode(Int.self) { self = .int(v); return }
        if let v = try? c.decode(Double.self) { self = .number(v); return }
        if let v = try? c.decode(String.self) { self = .string(v); return }
        if let v = try? c.decode([JSONValue].self) { self = .array(v); return }
        self = .object(try c.decode([String: JSONValue].self))
    }

    /// A short description for error messages.
    var kind: String {
        switch self {
        case .null: return "null"
        case .bool(let b): return "the boolean \(b)"
        case .int(let i): return "the integer \(i)"
        case .number(let d): return "the number \(d)"
        case .string(let s): return "the string \(SafetensorsFile.jsonString(String(s.prefix(40))))"
        case .array(let a): return "a list of \(a.count) item\(a.count == 1 ? "" : "s")"
        case .object: return "an object"
        }
    }
}
