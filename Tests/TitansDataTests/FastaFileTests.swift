import Foundation
import Testing
@testable import TitansData

struct FastaFileTests {
    static func error(_ text: String) -> FastaError? {
        do { _ = try FastaFile.parse(Data(text.utf8), path: "s.fa") } catch let error as FastaError { return error } catch { return nil }
        return nil
    }

    /// Records over several lines, lower case read as upper case, blank lines, spaces, CRLF and comments ignored.
    @Test func readsRecords() throws {
        let records = try FastaFile.parse(Data(">chr1:10-14 positive\r\nACgt\r\nnA\n\n; a comment\n>second\n  GATTACA \n".utf8), path: "s.fa")
        #expect(records == [FastaRecord(name: "chr1:10-14 positive", sequence: Array("ACGTNA".utf8)),
                            FastaRecord(name: "second", sequence: Array("GATTACA".utf8))])
    }

    /// A letter other than ACGTN, a sequence before any header, a record without sequence and an empty file are refused.
    @Test func badFilesAreRefusedWithTheirLine() throws {
        #expect(Self.error(">a\nACGT\nACRT\n") == .invalidLetter(path: "s.fa", line: 3, column: 3, letter: "R"))
        #expect(Self.error(">a\nAC\u{1}T\n") == .invalidLetter(path: "s.fa", line: 2, column: 3, letter: "byte 0x01"))
        #expect(Self.error("ACGT\n>a\nA\n") == .sequenceBeforeHeader(path: "s.fa", line: 1))
        #expect(Self.error(">a\n>b\nACGT\n") == .emptySequence(path: "s.fa", line: 1, name: "a"))
        #expect(Self.error(">a\nACGT\n>b\n") == .emptySequence(path: "s.fa", line: 3, name: "b"))
        #expect(Self.error("\n\n") == .noRecords(path: "s.fa"))
        #expect(Self.error("") == .noRecords(path: "s.fa"))
        let missing = FileManager.default.temporaryDirectory.appendingPathComponent("no-such-\(UUID().uuidString).fa")
        #expect(throws: FastaError.missing(path: missing.path)) { try FastaFile.read(missing) }
    }
}
