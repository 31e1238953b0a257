/// A GitHub-flavoured Markdown table: a header row, an alignment row, then the rows.
///
/// Columns are padded to equal widths so the raw text reads well in a terminal too. `|` in a cell is escaped as `\|`
/// and line breaks become `<br>`, so no cell can break the table. Short rows are padded with empty cells; a row longer
/// than the header adds columns with empty headers.
///
/// ```swift
/// let table = MarkdownTable(headers: ["model", "accuracy"], rows: [["mag", "0.97"]], alignments: [.left, .right])
/// print(table.render())
/// ```
public struct MarkdownTable: Sendable {
    /// How a column is aligned (the colons of the alignment row).
    ///
    /// ```swift
    /// MarkdownTable(headers: ["a", "b"], rows: [], alignments: [.center, .right])
    /// ```
    public enum Alignment: Sendable, Equatable {
        /// No colon in the alignment row (renderers usually left-align).
        case none
        case left
        case center
        case right
    }

    public var headers: [String]
    public var rows: [[String]]
    /// Per column; missing entries are `.none`.
    public var alignments: [Alignment]

    public init(headers: [String], rows: [[String]] = [], alignments: [Alignment] = []) {
        self.headers = headers
        self.rows = rows
        self.alignments = alignments
    }

    public mutating func append(_ row: [String]) {
        rows.append(row)
    }

    public func render() -> String {
        let columns = max(headers.count, rows.map(\.count).max() ?? 0)
        guard columns > 0 else { return "" }
        func cells(_ row: [String]) -> [String] {
            (0..<columns).map { $0 < row.count ? Self.escape(row[$0]) : "" }
        }
        let head = cells(headers), body = rows.map(cells)
        let align = (0..<columns).map { $0 < alignments.count ? alignments[$0] : .none }
        let widths = (0..<columns).map { c in ([head] + body).map { $0[c].count }.reduce(3, max) }

        func pad(_ s: String, _ width: Int, _ a: Alignment) -> String {
            let gap = width - s.count
            guard gap > 0 else { return s }
            switch a {
            case .right: return String(repeating: " ", count: gap) + s
            case .center: return String(repeating: " ", count: gap / 2) + s + String(repeating: " ", count: gap - gap / 2)
            case .none, .left: return s + String(repeating: " ", count: gap)
            }
        }
        func line(_ row: [String]) -> String {
            "| " + (0..<columns).map { pad(row[$0], widths[$0], align[$0]) }.joined(separator: " | ") + " |"
        }
        let rule = (0..<columns).map { c -> String in
            let w = widths[c]
            switch align[c] {
            case .none: return String(repeating: "-", count: w)
            case .left: return ":" + String(repeating: "-", count: w - 1)
            case .right: return String(repeating: "-", count: w - 1) + ":"
            case .center: return ":" + String(repeating: "-", count: w - 2) + ":"
            }
        }
        return ([line(head), "| " + rule.joined(separator: " | ") + " |"] + body.map(line)).joined(separator: "\n") + "\n"
    }

    /// Escapes `|` and turns line breaks into `<br>`.
    static func escape(_ cell: String) -> String {
        var out = ""
        var previousWasCR = false
        for scalar in cell.unicodeScalars {
            switch scalar {
            case "|": out += "\\|"
            case "\r": out += "<br>"
            case "\n": if !previousWasCR { out += "<br>" }
            default: out.unicodeScalars.append(scalar)
            }
            previousWasCR = scalar == "\r"
        }
        return out
    }
}
