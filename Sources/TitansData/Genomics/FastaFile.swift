import Foundation

/// One sequence of a FASTA file: the text after `>` on its header line, and its nucleotides as upper-case ASCII
/// letters `A`, `C`, `G`, `T` and `N` (for DNA modelling, paper §5.6, Table 4).
public struct FastaRecord: Sendable, Equatable {
    public var name: String
    public var sequence: [UInt8]

    public init(name: String, sequence: [UInt8]) {
        self.name = name
        self.sequence = sequence
    }
}

/// DNA sequences in FASTA: each record a `>` header line, then its sequence over any number of lines. Lower-case
/// letters (soft-masked repeats) are read as upper case; blank lines and spaces are ignored; `;` comment lines
/// (old FASTA) are skipped. Any letter other than A, C, G, T and N (in either case) is an error naming its line, since
/// a silent change (to N, say) would alter what the model sees; so are a file without records and a record without a
/// sequence.
///
/// ```swift
/// let records = try FastaFile.read(URL(fileURLWithPath: "sample.fa"))
/// print(records.count, records[0].name, records[0].sequence.count)
/// ```
public enum FastaFile {
    /// Every record of the file at `url`, in order.
    public static func read(_ url: URL) throws -> [FastaRecord] {
        let path = url.path
        switch FileKind.contents(of: path) {
        case .success(let data): return try parse(data, path: path)
        case .failure(.missing): throw FastaError.missing(path: path)
        case .failure(.notARegularFile): throw FastaError.notARegularFile(path: path)
        case .failure(.unreadable(let reason)): throw FastaError.unreadable(path: path, reason: reason)
        }
    }

    /// The nucleotides a sequence may hold, upper case.
    public static let alphabet: [UInt8] = Array("ACGTN".utf8)

    /// Parses FASTA bytes; `path` names the data in errors.
    public static func parse(_ data: Data, path: String) throws -> [FastaRecord] {
        var records: [FastaRecord] = []
        var current: FastaRecord?
        var headerLine = 0
        func finish() throws {
            guard let record = current else { return }
            guard !record.sequence.isEmpty else { throw FastaError.emptySequence(path: path, line: headerLine, name: record.name) }
            records.append(record)
        }
        let lowerCaseOffset = UInt8(ascii: "a") - UInt8(ascii: "A")
        for (index, line) in data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).enumerated() {
            let number = index + 1
            if line.first == UInt8(ascii: ">") {
                try finish()
                let name = String(decoding: line.dropFirst(), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
                current = FastaRecord(name: name, sequence: [])
                headerLine = number
                continue
            }
            if line.first == UInt8(ascii: ";") { continue }
            for (column, byte) in line.enumerated() {
                if byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") || byte == UInt8(ascii: "\r") { continue }
                let upper = (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) ? byte - lowerCaseOffset : byte
                guard Self.alphabet.contains(upper) else {
                    throw FastaError.invalidLetter(path: path, line: number, column: column + 1, letter: Self.shown(byte))
                }
                guard current != nil else { throw FastaError.sequenceBeforeHeader(path: path, line: number) }
                current?.sequence.append(upper)
            }
        }
        try finish()
        guard !records.isEmpty else { throw FastaError.noRecords(path: path) }
        return records
    }

    /// A byte as it reads in an error: the character, or its code when it is not printable ASCII.
    static func shown(_ byte: UInt8) -> String {
        (0x21...0x7E).contains(byte) ? String(UnicodeScalar(byte)) : String(format: "byte 0x%02X", byte)
    }
}

/// Why a FASTA file cannot be read.
public enum FastaError: Error, CustomStringConvertible, Equatable {
    case missing(path: String)
    case notARegularFile(path: String)
    case unreadable(path: String, reason: String)
    case noRecords(path: String)
    case sequenceBeforeHeader(path: String, line: Int)
    case emptySequence(path: String, line: Int, name: String)
    case invalidLetter(path: String, line: Int, column: Int, letter: String)

    public var description: String {
        switch self {
        case .missing(let path): return "no FASTA file at \(path); check the path (`bash scripts/fetch-dna` fetches the datasets)"
        case .notARegularFile(let path): return "\(path) is not a regular file; pass a FASTA file (\">name\" lines, each followed by its sequence)"
        case let .unreadable(path, reason): return "cannot read \(path): \(reason)"
        case .noRecords(let path): return "\(path) holds no sequences; a FASTA file has \">name\" lines, each followed by its sequence"
        case let .sequenceBeforeHeader(path, line):
            return "\(path), line \(line): sequence before any \">name\" line; is this a FASTA file?"
        case let .emptySequence(path, line, name):
            return "\(path), line \(line): the record \"\(name)\" has no sequence; remove it or add its nucleotides"
        case let .invalidLetter(path, line, column, letter):
            return "\(path), line \(line), column \(column): \"\(letter)\" is not a nucleotide; sequences may hold only A, C, G, T and N (either case)"
        }
    }
}
