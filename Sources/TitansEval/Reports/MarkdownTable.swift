/// A Markdown table: a header row, an alignment row, and the rows, with `|` in cells escaped.
public struct MarkdownTable: Sendable {
    public var headers: [String]
    public var rows: [[String]]

    public init(headers: [String], rows: [[String]]) {
        self.headers = headers
        self.rows = rows
    }

    public func render() -> String {
        func line(_ cells: [String]) -> String {
            "| " + cells.map { $0.replacingOccurrences(of: "|", with: "\\|") }.joined(separator: " | ") + " |"
        }
        return ([line(headers), line(headers.map { _ in "---" })] + rows.map(line)).joined(separator: "\n") + "\n"
    }
}
