#if !FUZZING
import Foundation
import TitansTraining

/// The plain loop's mutations of corpus files: bit flips, bytes set to values the header's JSON cares about, ranges
/// deleted, repeated or spliced from another file, numbers in the header changed, the length prefix rewritten,
/// truncation. A few of them stacked on one input.
struct Mutator {
    /// The peak resident memory the plain loop accepts (a header claiming huge tensors must be refused before
    /// anything is allocated, so a run stays near the size of its inputs).
    static let peakMemoryBoundMB = 512

    private var random: RandomGenerator
    private static let interesting: [UInt8] = Array("{}[]\":,0123456789-eE. ".utf8) + [0, 0x7F, 0x80, 0xFF]

    init(seed: UInt64) { random = RandomGenerator(seed: seed) }

    private mutating func below(_ n: Int) -> Int { n <= 1 ? 0 : Int(random.next() % UInt64(n)) }

    mutating func mutate(_ seeds: [Data]) -> Data {
        var bytes = [UInt8](seeds[below(seeds.count)])
        for _ in 0..<(1 + below(4)) { mutateOnce(&bytes, seeds) }
        return Data(bytes)
    }

    private mutating func mutateOnce(_ bytes: inout [UInt8], _ seeds: [Data]) {
        guard !bytes.isEmpty else { bytes = [UInt8](repeating: 0, count: below(16)); return }
        // Positions in the header (after the 8-byte length) are chosen half of the time: that is where the structure is.
        let headerEnd = min(bytes.count, 8 + Int(bytes.prefix(8).enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) } & 0xFFFF))
        let position = below(2) == 0 && headerEnd > 8 ? 8 + below(headerEnd - 8) : below(bytes.count)
        switch below(9) {
        case 0: bytes[position] ^= UInt8(1 << below(8))
        case 1: bytes[position] = Self.interesting[below(Self.interesting.count)]
        case 2: bytes[position] = UInt8(truncatingIfNeeded: random.next())
        case 3: bytes.removeSubrange(position..<min(bytes.count, position + 1 + below(16)))
        case 4:
            let piece = bytes[position..<min(bytes.count, position + 1 + below(64))]
            bytes.insert(contentsOf: piece, at: below(bytes.count))
        case 5:
            let other = [UInt8](seeds[below(seeds.count)])
            guard !other.isEmpty else { return }
            let from = below(other.count)
            bytes.replaceSubrange(position..<min(bytes.count, position + 32), with: other[from..<min(other.count, from + 32)])
        case 6:
            // A digit of the header changed, or a number made much larger: shapes and offsets.
            if position < headerEnd, let digit = (position..<headerEnd).first(where: { (48...57).contains(bytes[$0]) }) {
                bytes.insert(contentsOf: Array(String(random.next() % 1_000_000_000).utf8).prefix(1 + below(12)), at: digit)
            }
        case 7:
            // The length prefix: a nearby or an arbitrary value.
            let length = below(2) == 0 ? UInt64(max(0, headerEnd - 8 + below(17) - 8)) : random.next() >> UInt64(below(64))
            for i in 0..<min(8, bytes.count) { bytes[i] = UInt8(truncatingIfNeeded: length >> (8 * UInt64(i))) }
        default: bytes.removeSubrange(below(bytes.count)...)
        }
    }
}
#endif
