import Foundation

/// A checksum of a safetensors file's content, so that a reader can tell a damaged file from a good one. It covers
/// what the file means rather than its exact bytes: every metadata entry but the one that holds the checksum (keys in
/// byte order), every tensor's name, dtype, shape and offsets (in file order), each field ended by a 0 byte, and then
/// the whole data section. Damage anywhere in these changes it; the header's padding and key order do not count.
extension SafetensorsFile {
    /// The checksum of this file's content, leaving out metadata entry `excludedKey`.
    func contentChecksum(excluding excludedKey: String) -> UInt32 {
        var crc = Self.describedContent(metadata: metadata, layout: infos, excluding: excludedKey)
        bytes.withUnsafeBytes { crc.update(UnsafeRawBufferPointer(rebasing: $0[dataStart...])) }
        return crc.value
    }

    /// The checksum that ``write(_:metadata:to:)`` of `tensors` with `metadata` would give, leaving out `excludedKey`.
    static func contentChecksum(of tensors: [(name: String, tensor: Tensor)], metadata: [String: String],
                                excluding excludedKey: String) throws -> UInt32 {
        var crc = describedContent(metadata: metadata, layout: try layout(of: tensors), excluding: excludedKey)
        for (_, tensor) in tensors { withLittleEndianBytes(of: tensor) { crc.update($0) } }
        return crc.value
    }

    private static func describedContent(metadata: [String: String], layout: [TensorInfo], excluding excludedKey: String) -> CRC32 {
        var crc = CRC32()
        func field(_ text: String) { crc.update(Array(text.utf8) + [0]) }
        for (key, value) in metadata.sorted(by: { utf8Less($0.key, $1.key) }) where key != excludedKey {
            field(key)
            field(value)
        }
        for info in layout {
            field(info.name)
            field(info.dtype.rawValue)
            field(info.shape.map(String.init).joined(separator: ","))
            field("\(info.dataOffsets.lowerBound),\(info.dataOffsets.upperBound)")
        }
        return crc
    }
}
