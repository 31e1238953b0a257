/// CRC-32 computed a byte at a time from a table, with either of two polynomials: IEEE 802.3 (zlib and PNG's, reflected
/// 0xEDB88320), which checkpoints use to refuse damaged files, and Castagnoli's CRC-32C (reflected 0x82F63B78), which
/// TensorBoard's event records carry. Each detects every burst error of up to 32 bits and every odd number of flipped
/// bits.
///
/// ```swift
/// var crc = CRC32(.castagnoli)
/// crc.update(Array("123456789".utf8))
/// print(String(crc.value, radix: 16))   // e3069283
/// ```
public struct CRC32 {
    /// Which of the two polynomials a checksum uses.
    ///
    /// ```swift
    /// CRC32(.ieee)         // zlib's, for checkpoints
    /// CRC32(.castagnoli)   // CRC-32C, for TensorBoard records
    /// ```
    public enum Polynomial: Sendable {
        case ieee, castagnoli

        fileprivate var table: [UInt32] {
            switch self {
            case .ieee: return CRC32.ieeeTable
            case .castagnoli: return CRC32.castagnoliTable
            }
        }
    }

    private static func table(reflected polynomial: UInt32) -> [UInt32] {
        (0..<256).map { n in
            var c = UInt32(n)
            for _ in 0..<8 { c = c & 1 == 1 ? polynomial ^ (c >> 1) : c >> 1 }
            return c
        }
    }
    private static let ieeeTable = table(reflected: 0xEDB8_8320)
    private static let castagnoliTable = table(reflected: 0x82F6_3B78)

    private let table: [UInt32]
    private var state: UInt32 = 0xFFFF_FFFF

    public init(_ polynomial: Polynomial = .ieee) { table = polynomial.table }

    /// Adds `bytes` to the checksum.
    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        table.withUnsafeBufferPointer { table in
            var c = state
            for byte in bytes { c = table[Int((c ^ UInt32(byte)) & 0xFF)] ^ (c >> 8) }
            state = c
        }
    }

    public mutating func update(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { update($0) }
    }

    /// The checksum of everything added so far.
    public var value: UInt32 { state ^ 0xFFFF_FFFF }
}
