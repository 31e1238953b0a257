import Foundation

/// A multivariate time series read from CSV: a header row of column names, then one row per time step, oldest first
/// (for forecasting, paper §5.5, Table 3).
///
/// - Columns: those named, in that order; by default every column whose values are all numbers (a time stamp, a date
///   or a flag column is left out and named in ``skipped``).
/// - Missing values (an empty field, `NA`, `NaN`, `null` or `?`): each takes the last value of its column before it
///   (the first rows, before any value, take the column's first value); ``filled`` counts them. A column with no value
///   at all is an error, since nothing could stand in for it.
/// - Fields are separated by commas, or by semicolons or tabs when the header row has no comma; they may be quoted
///   (`"1,5"`, with `""` for a quote); lines may end in CRLF; a last empty line is ignored.
///
/// ```swift
/// let table = try SeriesTable.read(URL(fileURLWithPath: "vic_elec.csv"), columns: ["Demand", "Temperature"])
/// print(table.steps, table.columns, table.value(step: 0, column: 1))
/// ```
public struct SeriesTable: Sendable, Equatable {
    /// The names of the columns kept, in order.
    public let columns: [String]
    /// Row-major: step `t`, column `c` at `t × columns.count + c`.
    public let values: [Float]
    /// Columns of the file left out because they hold something other than numbers (only when no columns were named).
    public let skipped: [String]
    /// Missing values that took the value before them.
    public let filled: Int

    public var steps: Int { columns.isEmpty ? 0 : values.count / columns.count }

    public func value(step: Int, column: Int) -> Float { values[step * columns.count + column] }

    /// Reads the CSV file at `url`, keeping `columns` (by name) or every numeric column.
    public static func read(_ url: URL, columns: [String]? = nil) throws -> SeriesTable {
        let path = url.path
        switch FileKind.contents(of: path) {
        case .success(let data): return try parse(data, path: path, columns: columns)
        case .failure(.missing): throw SeriesError.missing(path: path)
        case .failure(.notARegularFile): throw SeriesError.notARegularFile(path: path)
        case .failure(.unreadable(let reason)): throw SeriesError.unreadable(path: path, reason: reason)
        }
    }

    /// Parses CSV bytes; `path` names the data in errors.
    public static func parse(_ data: Data, path: String, columns wanted: [String]? = nil) throws -> SeriesTable {
        // Split at byte 0x0A: a Swift string holds CRLF as one character.
        var lines = data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).map { bytes in
            Substring(String(decoding: bytes.last == UInt8(ascii: "\r") ? bytes.dropLast() : bytes, as: UTF8.self))
        }
        while lines.last?.allSatisfy(\.isWhitespace) == true { lines.removeLast() }
        guard let headerLine = lines.first else { throw SeriesError.empty(path: path) }
        let separator: Character = headerLine.contains(",") ? "," : headerLine.contains(";") ? ";" : headerLine.contains("\t") ? "\t" : ","
        let header = try fields(of: headerLine, separator: separator, path: path, line: 1).map { $0.trimmingCharacters(in: .whitespaces) }
        guard lines.count > 1 else { throw SeriesError.noRows(path: path) }
        if let duplicate = header.enumerated().first(where: { header.prefix($0.offset).contains($0.element) })?.element {
            throw SeriesError.duplicateColumn(path: path, name: duplicate)
        }
        var rows: [[Substring]] = []
        rows.reserveCapacity(lines.count - 1)
        for (index, line) in lines.enumerated().dropFirst() {
            let row = try fields(of: line, separator: separator, path: path, line: index + 1)
            guard row.count == header.count else {
                throw SeriesError.ragged(path: path, line: index + 1, fields: row.count, expected: header.count)
            }
            rows.append(row.map { Substring($0) })
        }
        // Each column's numbers, nil where missing; a column that is not numeric is left out (or refused when named).
        var chosen: [(name: String, index: Int)] = []
        if let wanted {
            guard !wanted.isEmpty else { throw SeriesError.noColumns(path: path, available: header) }
            for name in wanted {
                guard let index = header.firstIndex(of: name) else { throw SeriesError.unknownColumn(path: path, name: name, available: header) }
                chosen.append((name, index))
            }
        } else {
            chosen = header.enumerated().map { ($0.element, $0.offset) }
        }
        var kept: [String] = [], skipped: [String] = [], parsed: [[Float]] = [], filled = 0
        for (name, index) in chosen {
            var column: [Float?] = []
            column.reserveCapacity(rows.count)
            var bad: (line: Int, text: String)?
            for (row, fields) in rows.enumerated() {
                let text = fields[index].trimmingCharacters(in: .whitespaces)
                if Self.missingMarks.contains(text) {
                    column.append(nil)
                } else if let number = Float(text), number.isFinite {
                    column.append(number)
                } else {
                    bad = (row + 2, text)
                    break
                }
            }
            if let bad {
                guard wanted == nil else { throw SeriesError.notANumber(path: path, line: bad.line, column: name, text: bad.text) }
                skipped.append(name)
                continue
            }
            // Missing values take the value before them (the leading ones, the column's first).
            guard var last = column.lazy.compactMap({ $0 }).first else { throw SeriesError.noValues(path: path, column: name) }
            kept.append(name)
            parsed.append(column.map { value in
                if let value { last = value } else { filled += 1 }
                return last
            })
        }
        guard !kept.isEmpty else { throw SeriesError.noNumericColumns(path: path, available: header) }
        var values = [Float](repeating: 0, count: rows.count * kept.count)
        for c in parsed.indices { for t in 0..<rows.count { values[t * kept.count + c] = parsed[c][t] } }
        return SeriesTable(columns: kept, values: values, skipped: skipped, filled: filled)
    }

    /// The texts that mean "no value here".
    static let missingMarks: Set<String> = ["", "NA", "N/A", "NaN", "nan", "NAN", "null", "NULL", "?"]

    /// The fields of one CSV line: split at `separator` outside double quotes; `""` inside quotes is one quote.
    static func fields(of line: Substring, separator: Character, path: String, line number: Int) throws -> [String] {
        var fields: [String] = [], field = "", quoted = false, wasQuote = false
        var iterator = line.makeIterator()
        while let character = iterator.next() {
            if quoted {
                if character == "\"" {
                    quoted = false
                    wasQuote = true
                } else {
                    field.append(character)
                }
                continue
            }
            switch character {
            case "\"":
                if wasQuote { field.append("\"") }  // "" inside a quoted field
                quoted = true
            case separator:
                fields.append(field)
                field = ""
            default: field.append(character)
            }
            wasQuote = false
        }
        guard !quoted else { throw SeriesError.unclosedQuote(path: path, line: number) }
        fields.append(field)
        return fields
    }
}

/// Why a CSV file cannot be read as a time series.
public enum SeriesError: Error, CustomStringConvertible, Equatable {
    case missing(path: String)
    case notARegularFile(path: String)
    case unreadable(path: String, reason: String)
    case empty(path: String)
    case noRows(path: String)
    case duplicateColumn(path: String, name: String)
    case ragged(path: String, line: Int, fields: Int, expected: Int)
    case unclosedQuote(path: String, line: Int)
    case noColumns(path: String, available: [String])
    case unknownColumn(path: String, name: String, available: [String])
    case notANumber(path: String, line: Int, column: String, text: String)
    case noValues(path: String, column: String)
    case noNumericColumns(path: String, available: [String])

    public var description: String {
        switch self {
        case .missing(let path): return "no CSV file at \(path); check the path (`bash scripts/fetch-series` fetches the datasets)"
        case .notARegularFile(let path): return "\(path) is not a regular file; pass a CSV file with a header row"
        case let .unreadable(path, reason): return "cannot read \(path): \(reason)"
        case .empty(let path): return "\(path) is empty; a time series needs a header row of column names and one row per step"
        case .noRows(let path): return "\(path) has a header row but no data rows"
        case let .duplicateColumn(path, name): return "\(path): the column \"\(name)\" appears twice in the header; rename one"
        case let .ragged(path, line, fields, expected):
            return "\(path), line \(line): \(fields) field\(fields == 1 ? "" : "s") where the header has \(expected); every row needs one value per column (leave a field empty for a missing value)"
        case let .unclosedQuote(path, line): return "\(path), line \(line): a quoted field is not closed; close it with \""
        case let .noColumns(path, available): return "\(path): no columns chosen; name some of \(available.joined(separator: ", "))"
        case let .unknownColumn(path, name, available):
            return "\(path) has no column \"\(name)\"; it has \(available.joined(separator: ", "))"
        case let .notANumber(path, line, column, text):
            return "\(path), line \(line): \"\(text)\" in column \(column) is not a number; fix it, leave it empty (a missing value), or leave the column out of --columns"
        case let .noValues(path, column): return "\(path): the column \(column) has no values at all; leave it out of --columns"
        case let .noNumericColumns(path, available):
            return "\(path): no column holds only numbers (columns: \(available.joined(separator: ", "))); name the ones to read with --columns"
        }
    }
}
