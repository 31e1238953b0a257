import Foundation
import Testing
@testable import TitansData

struct SeriesTableTests {
    static func parse(_ text: String, columns: [String]? = nil) throws -> SeriesTable {
        try SeriesTable.parse(Data(text.utf8), path: "t.csv", columns: columns)
    }

    static func error(_ text: String, columns: [String]? = nil) -> SeriesError? {
        do { _ = try parse(text, columns: columns) } catch let error as SeriesError { return error } catch { return nil }
        return nil
    }

    /// Numeric columns are kept in order, the others named as skipped; quoted fields, CRLF and a last empty line are read.
    @Test func readsNumericColumnsAndSkipsTheRest() throws {
        let table = try Self.parse("Time,Demand,\"Temp, C\",Holiday\r\n2012-01-01T00:00,4382.8,21.4,TRUE\r\n2012-01-01T00:30,\"4263.5\",-1e1,FALSE\r\n\r\n")
        #expect(table.columns == ["Demand", "Temp, C"] && table.skipped == ["Time", "Holiday"])
        #expect(table.steps == 2 && table.values == [4382.8, 21.4, 4263.5, -10] && table.filled == 0)
        let chosen = try Self.parse("a,b,c\n1,2,3\n4,5,6\n", columns: ["c", "a"])
        #expect(chosen.columns == ["c", "a"] && chosen.values == [3, 1, 6, 4] && chosen.skipped.isEmpty)
        #expect(try Self.parse("a,\"b\"\"q\"\n1,2\n").columns == ["a", "b\"q"])
        #expect(try Self.parse("t;a;b\nx;1,5;2\n").columns == ["b"])  // semicolons (a decimal comma is not a number)
        #expect(try Self.parse("a\tb\n1\t2\n").values == [1, 2])
    }

    /// A missing value takes the last value of its column; leading ones take the column's first value.
    @Test func missingValuesTakeTheValueBefore() throws {
        let table = try Self.parse("a,b\nNA,1\n2,\n,NaN\n5,?\n")
        #expect(table.values == [2, 1, 2, 1, 2, 1, 5, 1] && table.filled == 5)
    }

    /// Every kind of bad file gets its own error, with the line where it is.
    @Test func badFilesAreRefusedWithTheirLine() throws {
        #expect(Self.error("") == .empty(path: "t.csv"))
        #expect(Self.error("a,b\n") == .noRows(path: "t.csv"))
        #expect(Self.error("a,a\n1,2\n") == .duplicateColumn(path: "t.csv", name: "a"))
        #expect(Self.error("a,b\n1,2\n3\n") == .ragged(path: "t.csv", line: 3, fields: 1, expected: 2))
        #expect(Self.error("a,b\n1,\"2\n") == .unclosedQuote(path: "t.csv", line: 2))
        #expect(Self.error("a,b\n1,2\n", columns: ["c"]) == .unknownColumn(path: "t.csv", name: "c", available: ["a", "b"]))
        #expect(Self.error("a,b\n1,2\n", columns: []) == .noColumns(path: "t.csv", available: ["a", "b"]))
        #expect(Self.error("a,b\n1,2\n3,x\n", columns: ["b"]) == .notANumber(path: "t.csv", line: 3, column: "b", text: "x"))
        #expect(Self.error("a,b\n1,inf\n", columns: ["b"]) == .notANumber(path: "t.csv", line: 2, column: "b", text: "inf"))
        #expect(Self.error("a,b\n1,NA\n2,\n") == .noValues(path: "t.csv", column: "b"))
        #expect(Self.error("a,b\nx,y\n") == .noNumericColumns(path: "t.csv", available: ["a", "b"]))
        let folder = FileManager.default.temporaryDirectory
        #expect(throws: SeriesError.notARegularFile(path: folder.path)) { try SeriesTable.read(folder) }
        let missing = folder.appendingPathComponent("no-such-\(UUID().uuidString).csv")
        #expect(throws: SeriesError.missing(path: missing.path)) { try SeriesTable.read(missing) }
    }
}
