import Foundation

/// A line chart as a standalone SVG (viewable in any browser): named series of (x, y) points with markers, axes with
/// ticks, a legend, an optional log₂ x axis and an optional labelled vertical reference line.
public struct LineChart: Sendable {
    public struct Series: Sendable {
        public var name: String
        public var points: [(x: Double, y: Double)]
        public init(name: String, points: [(x: Double, y: Double)]) {
            self.name = name
            self.points = points
        }
    }

    public var title: String
    public var xLabel: String
    public var yLabel: String
    public var series: [Series]
    public var logarithmicX = false
    /// A fixed y range (e.g. 0…1 for accuracy); otherwise the data's.
    public var yRange: ClosedRange<Double>?
    /// A vertical line at this x, with a label (e.g. the attention window).
    public var reference: (x: Double, label: String)?

    public init(title: String, xLabel: String, yLabel: String, series: [Series]) {
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.series = series
    }

    static let colours = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b"]
    static let (width, height, left, right, top, bottom) = (720.0, 420.0, 70.0, 180.0, 50.0, 60.0)

    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }

    /// Tick values at 1-2-5 steps covering `range`.
    static func ticks(_ range: ClosedRange<Double>) -> [Double] {
        let span = range.upperBound - range.lowerBound
        guard span > 0 else { return [range.lowerBound] }
        let raw = span / 6, magnitude = pow(10, floor(log10(raw)))
        let step = [1.0, 2, 5, 10].map { $0 * magnitude }.first { $0 >= raw } ?? 10 * magnitude
        return stride(from: ceil(range.lowerBound / step) * step, through: range.upperBound + step * 1e-9, by: step).map { $0 }
    }

    static func label(_ v: Double) -> String {
        v == v.rounded() && Swift.abs(v) < 1e9 ? String(Int(v)) : String(format: "%.3g", v)
    }

    public func svg() -> String {
        let finite = series.flatMap(\.points).filter { $0.x.isFinite && $0.y.isFinite && (!logarithmicX || $0.x > 0) }
        let tx: (Double) -> Double = { logarithmicX ? log2($0) : $0 }
        var xr = (finite.map { tx($0.x) }.min() ?? 0)...(finite.map { tx($0.x) }.max() ?? 1)
        if xr.lowerBound == xr.upperBound { xr = (xr.lowerBound - 1)...(xr.upperBound + 1) }
        var yr = yRange ?? (finite.map(\.y).min() ?? 0)...(finite.map(\.y).max() ?? 1)
        if yr.lowerBound == yr.upperBound { yr = (yr.lowerBound - 1)...(yr.upperBound + 1) }
        let (w, h) = (Self.width - Self.left - Self.right, Self.height - Self.top - Self.bottom)
        func px(_ x: Double) -> Double { Self.left + (tx(x) - xr.lowerBound) / (xr.upperBound - xr.lowerBound) * w }
        func py(_ y: Double) -> Double { Self.top + h - (y - yr.lowerBound) / (yr.upperBound - yr.lowerBound) * h }
        func f(_ v: Double) -> String { String(format: "%.1f", v) }
        var out = """
        <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(Self.width))" height="\(Int(Self.height))" font-family="sans-serif" font-size="12">
        <rect width="100%" height="100%" fill="white"/>
        <text x="\(f(Self.width / 2))" y="24" text-anchor="middle" font-size="16">\(Self.escape(title))</text>
        <rect x="\(f(Self.left))" y="\(f(Self.top))" width="\(f(w))" height="\(f(h))" fill="none" stroke="#444"/>

        """
        let xTicks = logarithmicX
            ? stride(from: ceil(xr.lowerBound), through: floor(xr.upperBound), by: 1).map { pow(2, $0) }
            : Self.ticks(xr)
        for t in xTicks {
            out += "<line x1=\"\(f(px(t)))\" y1=\"\(f(Self.top + h))\" x2=\"\(f(px(t)))\" y2=\"\(f(Self.top + h + 5))\" stroke=\"#444\"/>"
            out += "<text x=\"\(f(px(t)))\" y=\"\(f(Self.top + h + 18))\" text-anchor=\"middle\">\(Self.label(t))</text>\n"
        }
        for t in Self.ticks(yr) {
            out += "<line x1=\"\(f(Self.left))\" y1=\"\(f(py(t)))\" x2=\"\(f(Self.left + w))\" y2=\"\(f(py(t)))\" stroke=\"#ddd\"/>"
            out += "<text x=\"\(f(Self.left - 8))\" y=\"\(f(py(t) + 4))\" text-anchor=\"end\">\(Self.label(t))</text>\n"
        }
        out += "<text x=\"\(f(Self.left + w / 2))\" y=\"\(f(Self.height - 15))\" text-anchor=\"middle\">\(Self.escape(xLabel))</text>\n"
        out += "<text transform=\"translate(18 \(f(Self.top + h / 2))) rotate(-90)\" text-anchor=\"middle\">\(Self.escape(yLabel))</text>\n"
        if let reference, reference.x.isFinite, !logarithmicX || reference.x > 0 {
            let x = px(reference.x)
            out += "<line x1=\"\(f(x))\" y1=\"\(f(Self.top))\" x2=\"\(f(x))\" y2=\"\(f(Self.top + h))\" stroke=\"#888\" stroke-dasharray=\"5,4\"/>"
            out += "<text x=\"\(f(x + 4))\" y=\"\(f(Self.top + 14))\" fill=\"#666\">\(Self.escape(reference.label))</text>\n"
        }
        for (i, s) in series.enumerated() {
            let colour = Self.colours[i % Self.colours.count]
            let points = s.points.filter { p in finite.contains { $0.x == p.x && $0.y == p.y } }
            if points.count > 1 {
                out += "<polyline fill=\"none\" stroke=\"\(colour)\" stroke-width=\"2\" points=\"\(points.map { "\(f(px($0.x))),\(f(py($0.y)))" }.joined(separator: " "))\"/>\n"
            }
            for p in points { out += "<circle cx=\"\(f(px(p.x)))\" cy=\"\(f(py(p.y)))\" r=\"3.5\" fill=\"\(colour)\"/>\n" }
            let ly = Self.top + 10 + Double(i) * 20
            out += "<line x1=\"\(f(Self.width - Self.right + 15))\" y1=\"\(f(ly))\" x2=\"\(f(Self.width - Self.right + 40))\" y2=\"\(f(ly))\" stroke=\"\(colour)\" stroke-width=\"2\"/>"
            out += "<text x=\"\(f(Self.width - Self.right + 46))\" y=\"\(f(ly + 4))\">\(Self.escape(s.name))</text>\n"
        }
        return out + "</svg>\n"
    }

    /// Writes the SVG atomically (a temporary file, then a rename).
    public func write(to url: URL) throws {
        try Data(svg().utf8).write(to: url, options: .atomic)
    }
}
