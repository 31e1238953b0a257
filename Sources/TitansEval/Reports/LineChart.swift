import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A line chart rendered as a standalone SVG document (viewable in any browser, no scripts, no external resources).
///
/// Named series of (x, y) points are drawn as lines with a marker on every point, over axes with "nice" ticks
/// (1-2-5 steps on a linear axis, powers of two on a log₂ x axis), a legend, a title and axis labels. Optionally the
/// y range is fixed (e.g. 0…1 for accuracy) and a labelled vertical reference line is drawn (e.g. the attention window).
///
/// Robust to awkward data: non-finite points (and non-positive x on a log axis) are skipped, empty series still appear in
/// the legend, a single point or equal min/max gets a sensible range, and every piece of text is XML-escaped.
///
/// ```swift
/// let chart = LineChart(title: "Loss", xLabel: "step", yLabel: "nats",
///                       series: [.init(name: "training", x: [1, 2, 3], y: [5.2, 4.1, 3.7])])
/// try chart.write(to: URL(fileURLWithPath: "loss.svg"))
/// ```
public struct LineChart: Sendable {
    /// One named line.
    ///
    /// ```swift
    /// LineChart.Series(name: "validation", points: [(x: 100, y: 2.4), (x: 200, y: 2.2)], colour: "#d62728")
    /// ```
    public struct Series: Sendable {
        public var name: String
        public var points: [(x: Double, y: Double)]
        /// A CSS colour (e.g. `"#0072B2"`); `nil` picks the next colour of the palette.
        public var colour: String?
        /// A marker on every point (off for dense series such as a loss per step, where only the line reads).
        public var markers: Bool

        public init(name: String, points: [(x: Double, y: Double)], colour: String? = nil, markers: Bool = true) {
            self.name = name
            self.points = points
            self.colour = colour
            self.markers = markers
        }

        /// Pairs `x[i]` with `y[i]` (the shorter array sets the length).
        public init(name: String, x: [Double], y: [Double], colour: String? = nil) {
            self.init(name: name, points: zip(x, y).map { (x: $0, y: $1) }, colour: colour)
        }
    }

    public var title: String
    public var xLabel: String
    public var yLabel: String
    public var series: [Series]
    /// Draws x on a log₂ scale with ticks at powers of two (good for distances 1×, 2×, … 32× a window).
    public var logarithmicX: Bool
    /// A fixed x range; otherwise the data's (rounded out to ticks).
    public var xRange: ClosedRange<Double>?
    /// A fixed y range (e.g. 0…1 for accuracy); otherwise the data's (rounded out to ticks).
    public var yRange: ClosedRange<Double>?
    /// A dashed vertical line at this x, with a label (e.g. the attention window).
    public var reference: (x: Double, label: String)?
    /// Overall size in pixels (the height grows if the legend needs it; the width adapts to long legend names).
    public var width: Double
    public var height: Double

    public init(
        title: String, xLabel: String, yLabel: String, series: [Series],
        logarithmicX: Bool = false, xRange: ClosedRange<Double>? = nil, yRange: ClosedRange<Double>? = nil,
        reference: (x: Double, label: String)? = nil, width: Double = 760, height: Double = 440
    ) {
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.series = series
        self.logarithmicX = logarithmicX
        self.xRange = xRange
        self.yRange = yRange
        self.reference = reference
        self.width = width
        self.height = height
    }

    /// Okabe–Ito colours (distinguishable with common colour-vision deficiencies), minus the yellow, plus a brown.
    static let palette = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#8C564B"]
    /// Dash patterns used once the palette has gone round (so series 1 and 9 still differ).
    static let dashes = ["", "6,3", "2,3", "8,3,2,3"]
    static let markerRadius = 3.5

    // MARK: Rendering

    public func svg() -> String {
        let logX = logarithmicX
        func usable(_ p: (x: Double, y: Double)) -> Bool { p.x.isFinite && p.y.isFinite && (!logX || p.x > 0) }
        // Points kept per series, in x order (stable, so equal x keep their given order).
        let kept: [[(x: Double, y: Double)]] = series.map { s in
            s.points.enumerated().filter { usable($0.element) }
                .sorted { $0.element.x != $1.element.x ? $0.element.x < $1.element.x : $0.offset < $1.offset }
                .map(\.element)
        }
        let all = kept.flatMap { $0 }
        var xs = all.map(\.x)
        if let reference, reference.x.isFinite, !logX || reference.x > 0 { xs.append(reference.x) }
        let xAxis = logX ? Self.log2Axis(values: xs, fixed: xRange) : Self.linearAxis(values: xs, fixed: xRange)
        let yAxis = Self.linearAxis(values: all.map(\.y), fixed: yRange)

        // Layout: title on top, tick labels and axis labels left and below, legend on the right.
        let longestName = series.map { $0.name.count }.max() ?? 0
        let left = 78.0, top = 52.0, bottom = 60.0
        let right = series.isEmpty ? 30.0 : min(max(120, 62 + 7.2 * Double(longestName)), 360)
        let w = max(width, left + right + 120), h = max(height, top + bottom + 22 * Double(series.count) + 20)
        let (plotW, plotH) = (w - left - right, h - top - bottom)
        func px(_ x: Double) -> Double { left + xAxis.fraction(x) * plotW }
        func py(_ y: Double) -> Double { top + plotH - yAxis.fraction(y) * plotH }
        let f = Self.coordinate, esc = Self.escapeXML

        var out = """
        <?xml version="1.0" encoding="UTF-8"?>
        <svg xmlns="http://www.w3.org/2000/svg" width="\(f(w))" height="\(f(h))" viewBox="0 0 \(f(w)) \(f(h))" \
        font-family="Helvetica, Arial, sans-serif" font-size="12">
        <title>\(esc(title))</title>
        <defs><clipPath id="titans-plot-area"><rect x="\(f(left - 6))" y="\(f(top - 6))" \
        width="\(f(plotW + 12))" height="\(f(plotH + 12))"/></clipPath></defs>
        <rect width="100%" height="100%" fill="white"/>
        <text class="title" x="\(f(left + plotW / 2))" y="28" text-anchor="middle" font-size="16" \
        font-weight="bold">\(esc(title))</text>

        """
        // Grid and ticks.
        out += "<g class=\"x-ticks\">\n"
        for t in xAxis.ticks {
            let x = px(t.value)
            out += "<line x1=\"\(f(x))\" y1=\"\(f(top))\" x2=\"\(f(x))\" y2=\"\(f(top + plotH))\" stroke=\"#e6e6e6\"/>"
            out += "<line x1=\"\(f(x))\" y1=\"\(f(top + plotH))\" x2=\"\(f(x))\" y2=\"\(f(top + plotH + 5))\" stroke=\"#444\"/>"
            out += "<text class=\"tick\" x=\"\(f(x))\" y=\"\(f(top + plotH + 19))\" text-anchor=\"middle\">\(esc(t.label))</text>\n"
        }
        out += "</g>\n<g class=\"y-ticks\">\n"
        for t in yAxis.ticks {
            let y = py(t.value)
            out += "<line x1=\"\(f(left))\" y1=\"\(f(y))\" x2=\"\(f(left + plotW))\" y2=\"\(f(y))\" stroke=\"#e6e6e6\"/>"
            out += "<line x1=\"\(f(left - 5))\" y1=\"\(f(y))\" x2=\"\(f(left))\" y2=\"\(f(y))\" stroke=\"#444\"/>"
            out += "<text class=\"tick\" x=\"\(f(left - 8))\" y=\"\(f(y + 4))\" text-anchor=\"end\">\(esc(t.label))</text>\n"
        }
        out += "</g>\n"
        out += "<rect x=\"\(f(left))\" y=\"\(f(top))\" width=\"\(f(plotW))\" height=\"\(f(plotH))\" fill=\"none\" stroke=\"#444\"/>\n"
        out += "<text class=\"x-label\" x=\"\(f(left + plotW / 2))\" y=\"\(f(h - 16))\" text-anchor=\"middle\">\(esc(xLabel))</text>\n"
        out += "<text class=\"y-label\" transform=\"translate(20 \(f(top + plotH / 2))) rotate(-90)\" "
            + "text-anchor=\"middle\">\(esc(yLabel))</text>\n"

        // Reference line, labelled just above the plot (never over the data), on whichever side has room.
        if let reference, reference.x.isFinite, !logX || reference.x > 0, (0...1).contains(xAxis.fraction(reference.x)) {
            let x = px(reference.x), onLeft = xAxis.fraction(reference.x) > 0.75
            out += "<g class=\"reference\"><line x1=\"\(f(x))\" y1=\"\(f(top - 4))\" x2=\"\(f(x))\" y2=\"\(f(top + plotH))\" "
                + "stroke=\"#777\" stroke-width=\"1.5\" stroke-dasharray=\"6,4\"/>"
            out += "<text x=\"\(f(onLeft ? x + 3 : x - 3))\" y=\"\(f(top - 7))\" text-anchor=\"\(onLeft ? "end" : "start")\" "
                + "fill=\"#555\" font-style=\"italic\">\(esc(reference.label))</text></g>\n"
        }

        // Series: line, then markers (each with a hover tooltip), clipped to the plot area.
        out += "<g clip-path=\"url(#titans-plot-area)\">\n"
        for (i, s) in series.enumerated() {
            let style = Self.style(index: i, colour: s.colour)
            let points = kept[i]
            if points.count > 1 {
                let coordinates = points.map { "\(f(px($0.x))),\(f(py($0.y)))" }.joined(separator: " ")
                out += "<polyline class=\"series\" fill=\"none\" stroke=\"\(esc(style.colour))\" stroke-width=\"2\" "
                    + "stroke-linejoin=\"round\"\(style.dash.isEmpty ? "" : " stroke-dasharray=\"\(style.dash)\"") "
                    + "points=\"\(coordinates)\"/>\n"
            }
            for p in points where s.markers {
                let tip = "\(s.name): (\(Self.plain(p.x)), \(Self.plain(p.y)))"
                out += Self.marker(shape: i, x: px(p.x), y: py(p.y), colour: style.colour, tooltip: tip) + "\n"
            }
        }
        out += "</g>\n"

        // Legend: a line sample with its marker, then the name.
        out += "<g class=\"legend\">\n"
        for (i, s) in series.enumerated() {
            let style = Self.style(index: i, colour: s.colour)
            let x0 = left + plotW + 16, y = top + 8 + Double(i) * 22
            out += "<line x1=\"\(f(x0))\" y1=\"\(f(y))\" x2=\"\(f(x0 + 28))\" y2=\"\(f(y))\" stroke=\"\(esc(style.colour))\" "
                + "stroke-width=\"2\"\(style.dash.isEmpty ? "" : " stroke-dasharray=\"\(style.dash)\"")/>"
            if s.markers {
                out += Self.marker(shape: i, x: x0 + 14, y: y, colour: style.colour, tooltip: nil, cssClass: "legend-marker")
            }
            out += "<text class=\"legend-name\" x=\"\(f(x0 + 36))\" y=\"\(f(y + 4))\">\(esc(s.name))</text>\n"
        }
        out += "</g>\n</svg>\n"
        return out
    }

    /// Writes the SVG atomically (Foundation writes a temporary file and renames it over `url`), so a reader never
    /// sees a half-written chart.
    public func write(to url: URL) throws {
        try Data(svg().utf8).write(to: url, options: .atomic)
    }

    // MARK: Axes

    struct Tick: Equatable {
        var value: Double
        var label: String
    }

    /// An axis: the drawn range (in log₂ space for a log axis) and its ticks (in data space).
    struct Axis {
        var lower: Double
        var upper: Double
        var logarithmic: Bool
        var ticks: [Tick]

        /// Where `v` falls between the axis ends, 0 at `lower` and 1 at `upper`.
        func fraction(_ v: Double) -> Double {
            let t = logarithmic ? Foundation.log2(v) : v
            return upper > lower ? (t - lower) / (upper - lower) : 0.5
        }
    }

    /// A 1-2-5 step near `span / target`.
    static func niceStep(span: Double, target: Int = 6) -> Double {
        guard span.isFinite, span > 0 else { return 1 }
        let raw = span / Double(max(target, 1))
        let magnitude = Foundation.pow(10, Foundation.floor(Foundation.log10(raw)))
        for m in [1.0, 2, 5] where m * magnitude >= raw * (1 - 1e-9) { return m * magnitude }
        return 10 * magnitude
    }

    /// Ticks at multiples of a 1-2-5 step within `lower...upper`.
    static func niceTicks(lower: Double, upper: Double, target: Int = 6) -> [Tick] {
        guard lower.isFinite, upper.isFinite, upper > lower else { return [Tick(value: lower, label: plain(lower))] }
        let step = niceStep(span: upper - lower, target: target)
        let tolerance = step * 1e-7
        let first = Int((lower / step - 1e-7).rounded(.up)), last = Int((upper / step + 1e-7).rounded(.down))
        guard last >= first, last - first < 1000 else { return [] }
        return (first...last).map { k in
            let v = Double(k) * step + 0.0  // + 0.0 turns −0 into 0
            return Tick(value: Swift.abs(v) < tolerance ? 0 : v, label: label(v, step: step))
        }
    }

    /// A linear axis over `values` (finite), or over `fixed` when given; a data range is rounded out to ticks.
    static func linearAxis(values: [Double], fixed: ClosedRange<Double>?) -> Axis {
        if let fixed, fixed.lowerBound.isFinite, fixed.upperBound.isFinite, fixed.upperBound > fixed.lowerBound {
            return Axis(lower: fixed.lowerBound, upper: fixed.upperBound, logarithmic: false,
                        ticks: niceTicks(lower: fixed.lowerBound, upper: fixed.upperBound))
        }
        var lo = values.min() ?? 0, hi = values.max() ?? 1
        if lo == hi {
            let pad = lo == 0 ? 1 : Swift.abs(lo) * 0.1
            (lo, hi) = (lo - pad, hi + pad)
        }
        let step = niceStep(span: hi - lo)
        let (a, b) = ((lo / step).rounded(.down) * step, (hi / step).rounded(.up) * step)
        return Axis(lower: a, upper: b, logarithmic: false, ticks: niceTicks(lower: a, upper: b))
    }

    /// A log₂ axis over positive `values` (or positive `fixed`), widened to whole powers of two, ticks at powers of two
    /// (every k-th power when there are more than ten).
    static func log2Axis(values: [Double], fixed: ClosedRange<Double>?) -> Axis {
        var lo: Double, hi: Double
        if let fixed, fixed.lowerBound > 0, fixed.upperBound.isFinite, fixed.upperBound > fixed.lowerBound {
            (lo, hi) = (Foundation.log2(fixed.lowerBound), Foundation.log2(fixed.upperBound))
        } else {
            let positive = values.filter { $0 > 0 && $0.isFinite }.map { Foundation.log2($0) }
            lo = (positive.min() ?? 0).rounded(.down)
            hi = (positive.max() ?? 1).rounded(.up)
            if lo == hi { (lo, hi) = (lo - 1, hi + 1) }
        }
        let first = Int((lo - 1e-9).rounded(.up)), last = Int((hi + 1e-9).rounded(.down))
        var ticks: [Tick] = []
        if last >= first {
            let every = max(1, Int((Double(last - first) / 10).rounded(.up)))
            for e in first...last where e % every == 0 || every == 1 {
                let v = Foundation.pow(2, Double(e))
                ticks.append(Tick(value: v, label: plain(v)))
            }
        }
        return Axis(lower: lo, upper: hi, logarithmic: true, ticks: ticks)
    }

    // MARK: Formatting

    /// A tick label with as many decimals as the step needs (so 0.1 + 0.2 shows as 0.3).
    static func label(_ v: Double, step: Double) -> String {
        if Swift.abs(v) >= 1e7 || (step < 1e-4 && v != 0) { return String(format: "%g", v) }
        let decimals = step >= 1 ? 0 : Int(Foundation.ceil(-Foundation.log10(step) - 1e-9))
        let s = String(format: "%.\(decimals)f", v)
        return s.hasPrefix("-") && Double(s) == 0 ? String(s.dropFirst()) : s
    }

    /// A number for text: whole numbers without decimals, others with up to 6 significant digits.
    static func plain(_ v: Double) -> String {
        guard v.isFinite else { return String(describing: v) }
        if v == v.rounded(), Swift.abs(v) < 1e15 { return String(Int64(v)) }
        return String(format: "%.6g", v)
    }

    static func coordinate(_ v: Double) -> String { String(format: "%.2f", v) }

    /// Escapes text for XML content and attributes, and drops characters XML 1.0 forbids.
    static func escapeXML(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.utf8.count)
        for scalar in s.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            case "\t", "\n", "\r": out.unicodeScalars.append(scalar)
            default:
                let v = scalar.value
                if v < 0x20 || v == 0xFFFE || v == 0xFFFF { continue }
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    // MARK: Styles and markers

    static func style(index: Int, colour: String?) -> (colour: String, dash: String) {
        (colour ?? palette[index % palette.count], dashes[(index / palette.count) % dashes.count])
    }

    /// A marker at (x, y): circle, square, triangle or diamond by series index, so series differ even in grey.
    static func marker(shape: Int, x: Double, y: Double, colour: String, tooltip: String?,
                       cssClass: String = "marker") -> String {
        let r = markerRadius, f = coordinate
        let paint = "class=\"\(cssClass)\" fill=\"\(escapeXML(colour))\" stroke=\"white\" stroke-width=\"1\""
        let tip = tooltip.map { "<title>\(escapeXML($0))</title>" } ?? ""
        let close = tip.isEmpty ? "/>" : ">\(tip)"
        switch shape % 4 {
        case 0:
            return "<circle \(paint) cx=\"\(f(x))\" cy=\"\(f(y))\" r=\"\(f(r + 0.5))\"\(close)\(tip.isEmpty ? "" : "</circle>")"
        case 1:
            return "<rect \(paint) x=\"\(f(x - r))\" y=\"\(f(y - r))\" width=\"\(f(2 * r))\" height=\"\(f(2 * r))\""
                + "\(close)\(tip.isEmpty ? "" : "</rect>")"
        case 2:
            let d = "M\(f(x)),\(f(y - r - 1)) L\(f(x + r + 0.5)),\(f(y + r - 0.5)) L\(f(x - r - 0.5)),\(f(y + r - 0.5)) Z"
            return "<path \(paint) d=\"\(d)\"\(close)\(tip.isEmpty ? "" : "</path>")"
        default:
            let q = r + 1
            let d = "M\(f(x)),\(f(y - q)) L\(f(x + q)),\(f(y)) L\(f(x)),\(f(y + q)) L\(f(x - q)),\(f(y)) Z"
            return "<path \(paint) d=\"\(d)\"\(close)\(tip.isEmpty ? "" : "</path>")"
        }
    }
}
