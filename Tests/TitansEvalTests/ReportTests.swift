import Foundation
import Testing
@testable import TitansEval
#if canImport(FoundationXML)
import FoundationXML
#endif

/// Collects every element (name and attributes) and the text inside each `<text>` element while parsing.
private final class SVGCollector: NSObject, XMLParserDelegate {
    var elements: [(name: String, attributes: [String: String])] = []
    var texts: [String] = []
    private var inText = false
    private var current = ""

    func parser(_ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?,
                qualifiedName qName: String?, attributes attributeDict: [String: String] = [:]) {
        elements.append((elementName, attributeDict))
        if elementName == "text" { inText = true; current = "" }
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
        if inText { current += string }
    }

    func parser(_ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?, qualifiedName qName: String?) {
        if elementName == "text" { texts.append(current); inText = false }
    }

    func count(_ name: String, class cssClass: String? = nil) -> Int {
        elements.filter { $0.name == name && (cssClass == nil || $0.attributes["class"] == cssClass) }.count
    }

    func countClass(_ cssClass: String) -> Int {
        elements.filter { $0.attributes["class"] == cssClass }.count
    }

    func texts(class cssClass: String) -> [String] {
        // Texts appear in document order, as do their elements.
        let textElements = elements.filter { $0.name == "text" }
        return zip(textElements, texts).filter { $0.0.attributes["class"] == cssClass }.map(\.1)
    }
}

/// Parses `svg`, failing the test if it is not well-formed XML.
private func parse(_ svg: String, sourceLocation: SourceLocation = #_sourceLocation) -> SVGCollector {
    let parser = XMLParser(data: Data(svg.utf8))
    let collector = SVGCollector()
    parser.delegate = collector
    let ok = parser.parse()
    #expect(ok, "SVG is not well-formed XML: \(parser.parserError.map { "\($0)" } ?? "?")", sourceLocation: sourceLocation)
    return collector
}

private func accuracyChart() -> LineChart {
    let distances: [Double] = [64, 128, 256, 512, 1024, 2048]
    return LineChart(
        title: "Recall accuracy by distance", xLabel: "distance from fact to question (bytes)", yLabel: "accuracy",
        series: [
            .init(name: "Titans (MAC)", x: distances, y: [0.98, 0.97, 0.95, 0.93, 0.9, 0.86]),
            .init(name: "Titans (MAG)", x: distances, y: [0.99, 0.96, 0.9, 0.85, 0.78, 0.7]),
            .init(name: "sliding-window attention", x: distances, y: [0.99, 0.52, 0.08, 0.04, 0.03, 0.02]),
        ],
        logarithmicX: true, yRange: 0...1, reference: (64, "attention window"))
}

@Suite struct LineChartTests {
    @Test func chartIsWellFormedWithTitleLegendLinesAndMarkers() {
        let chart = accuracyChart()
        let svg = chart.svg()
        let doc = parse(svg)
        #expect(doc.elements.first?.name == "svg")
        #expect(doc.texts(class: "title") == ["Recall accuracy by distance"])
        #expect(doc.texts(class: "legend-name") == ["Titans (MAC)", "Titans (MAG)", "sliding-window attention"])
        #expect(doc.texts(class: "x-label") == ["distance from fact to question (bytes)"])
        #expect(doc.texts(class: "y-label") == ["accuracy"])
        #expect(doc.texts.contains("attention window"))
        #expect(doc.count("polyline", class: "series") == 3)
        #expect(doc.countClass("marker") == 18)
        #expect(doc.countClass("legend-marker") == 3)
        // Distinct colours for the three series.
        let strokes = doc.elements.filter { $0.name == "polyline" }.compactMap { $0.attributes["stroke"] }
        #expect(Set(strokes).count == 3)
    }

    /// A series without markers is drawn as a line only, in the plot and in the legend.
    @Test func seriesWithoutMarkers() {
        var chart = accuracyChart()
        chart.series[1].markers = false
        let doc = parse(chart.svg())
        #expect(doc.count("polyline", class: "series") == 3)
        #expect(doc.countClass("marker") == 12)
        #expect(doc.countClass("legend-marker") == 2)
        #expect(doc.texts(class: "legend-name").count == 3)
    }

    @Test func chartEscapesMarkupInEveryLabel() {
        let chart = LineChart(
            title: "loss <train> & \"val\"", xLabel: "step <k>", yLabel: "a&b",
            series: [.init(name: "<script>alert('x')</script>", points: [(1, 2), (2, 3)])],
            reference: (1.5, "R&D <here>"))
        let svg = chart.svg()
        let doc = parse(svg)
        #expect(svg.contains("loss &lt;train&gt; &amp; &quot;val&quot;"))
        #expect(!svg.contains("<script>") && !svg.contains("<train>") && !svg.contains("<k>"))
        #expect(doc.texts(class: "title") == ["loss <train> & \"val\""])
        #expect(doc.texts(class: "legend-name") == ["<script>alert('x')</script>"])
        #expect(doc.texts(class: "x-label") == ["step <k>"])
        #expect(doc.texts(class: "y-label") == ["a&b"])
        #expect(doc.texts.contains("R&D <here>"))
        #expect(doc.count("script") == 0)
        // Control characters XML forbids are dropped rather than breaking the document.
        _ = parse(LineChart(title: "bell\u{07}", xLabel: "", yLabel: "", series: []).svg())
    }

    @Test func chartSkipsNonFiniteValuesAndSurvivesEmptySeries() {
        let chart = LineChart(title: "t", xLabel: "x", yLabel: "y", series: [
            .init(name: "with gaps", points: [(1, 0.5), (2, .nan), (3, .infinity), (.nan, 1), (4, 0.25), (5, -.infinity)]),
            .init(name: "empty", points: []),
            .init(name: "all NaN", points: [(.nan, .nan), (1, .nan)]),
        ])
        let svg = chart.svg()
        let doc = parse(svg)
        #expect(doc.count("polyline", class: "series") == 1)
        #expect(doc.countClass("marker") == 2)
        #expect(doc.texts(class: "legend-name") == ["with gaps", "empty", "all NaN"])
        #expect(!svg.lowercased().contains("nan") || svg.contains("all NaN"))
        #expect(!svg.contains("inf\"") && !svg.contains("nan\""))
    }

    @Test func chartHandlesNoSeriesSinglePointAndFlatData() {
        for chart in [
            LineChart(title: "none", xLabel: "x", yLabel: "y", series: []),
            LineChart(title: "one", xLabel: "x", yLabel: "y", series: [.init(name: "s", points: [(3, 7)])]),
            LineChart(title: "one log", xLabel: "x", yLabel: "y", series: [.init(name: "s", points: [(8, 0)])],
                      logarithmicX: true),
            LineChart(title: "flat", xLabel: "x", yLabel: "y", series: [.init(name: "s", points: [(1, 2), (1, 2), (1, 2)])]),
            LineChart(title: "bad ranges", xLabel: "x", yLabel: "y", series: [.init(name: "s", points: [(1, 1), (2, 2)])],
                      logarithmicX: true, xRange: -1...(-1), yRange: 5...5),
        ] {
            let svg = chart.svg()
            let doc = parse(svg)
            #expect(doc.texts(class: "title") == [chart.title])
            #expect(!svg.contains("nan") && !svg.contains("inf"), "non-finite coordinate in \(chart.title)")
            #expect(doc.countClass("marker") == chart.series.flatMap(\.points).count)
        }
        // A single point sits inside the plot, with ticks around it.
        let doc = parse(LineChart(title: "", xLabel: "", yLabel: "", series: [.init(name: "s", points: [(3, 7)])]).svg())
        #expect(doc.texts(class: "tick").count >= 4)
    }

    @Test func logAxisTicksArePowersOfTwo() {
        let doc = parse(accuracyChart().svg())
        let xTicks = doc.texts(class: "tick").prefix { Double($0).map { $0 >= 64 } ?? false }
        #expect(Array(xTicks) == ["64", "128", "256", "512", "1024", "2048"])

        let axis = LineChart.log2Axis(values: [3, 100], fixed: nil)
        #expect(axis.ticks.map(\.value) == [2, 4, 8, 16, 32, 64, 128])
        for tick in axis.ticks { #expect(Foundation.log2(tick.value) == Foundation.log2(tick.value).rounded()) }
        // Many octaves: thinned, still powers of two.
        let wide = LineChart.log2Axis(values: [1, 1_073_741_824], fixed: nil)
        #expect(wide.ticks.count <= 11 && wide.ticks.count >= 5)
        for tick in wide.ticks { #expect(Foundation.log2(tick.value) == Foundation.log2(tick.value).rounded()) }
        // Fractions below one.
        #expect(LineChart.log2Axis(values: [0.25, 1], fixed: nil).ticks.map(\.label) == ["0.25", "0.5", "1"])
        // Non-positive x is dropped on a log axis.
        let chart = LineChart(title: "", xLabel: "", yLabel: "", series: [.init(name: "s", points: [(0, 1), (-2, 1), (4, 1)])],
                              logarithmicX: true)
        #expect(parse(chart.svg()).countClass("marker") == 1)
    }

    @Test func linearTicksFollowOneTwoFiveSteps() {
        let unit = LineChart.linearAxis(values: [0.3, 0.7], fixed: 0...1)
        #expect(unit.ticks.map(\.label) == ["0.0", "0.2", "0.4", "0.6", "0.8", "1.0"])
        #expect(unit.lower == 0 && unit.upper == 1)

        let steps = LineChart.linearAxis(values: [0, 9_500], fixed: nil)
        #expect(steps.ticks.map(\.label) == ["0", "2000", "4000", "6000", "8000", "10000"])
        #expect(steps.upper == 10_000)

        let loss = LineChart.linearAxis(values: [1.83, 2.61], fixed: nil)
        #expect(loss.ticks.first!.value <= 1.83 && loss.ticks.last!.value >= 2.61)
        #expect(loss.ticks.map(\.label) == ["1.8", "2.0", "2.2", "2.4", "2.6", "2.8"])

        let negative = LineChart.linearAxis(values: [-1, 1], fixed: nil)
        #expect(negative.ticks.map(\.label) == ["-1.0", "-0.5", "0.0", "0.5", "1.0"])

        for step in [LineChart.niceStep(span: 7), LineChart.niceStep(span: 0.013), LineChart.niceStep(span: 4200)] {
            let mantissa = step / Foundation.pow(10, Foundation.floor(Foundation.log10(step)))
            #expect([1.0, 2, 5].contains { Swift.abs($0 - mantissa) < 1e-9 })
        }
    }

    @Test func referenceLineOutsideTheDataWidensTheAxis() {
        let chart = LineChart(title: "", xLabel: "", yLabel: "", series: [.init(name: "s", points: [(10, 1), (20, 2)])],
                              reference: (40, "window"))
        let doc = parse(chart.svg())
        #expect(doc.texts.contains("window"))
        #expect(doc.elements.contains { $0.name == "g" && $0.attributes["class"] == "reference" })
    }

    @Test func manySeriesGetDistinctStyles() {
        let series = (0..<10).map { i in LineChart.Series(name: "s\(i)", points: [(1, Double(i)), (2, Double(i) + 1)]) }
        let doc = parse(LineChart(title: "", xLabel: "", yLabel: "", series: series).svg())
        let styles = doc.elements.filter { $0.name == "polyline" }
            .map { "\($0.attributes["stroke"] ?? "") \($0.attributes["stroke-dasharray"] ?? "")" }
        #expect(styles.count == 10 && Set(styles).count == 10)
    }

    @Test func chartWriteReplacesTheFileAtomically() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("titans-chart-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appendingPathComponent("chart.svg")
        try Data("old".utf8).write(to: url)
        let chart = accuracyChart()
        try chart.write(to: url)
        #expect(try String(contentsOf: url, encoding: .utf8) == chart.svg())
        // No temporary file is left behind.
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["chart.svg"])
        // A missing directory is an error, not a crash.
        #expect(throws: (any Error).self) { try chart.write(to: directory.appendingPathComponent("no/such/dir.svg")) }

        // Set TITANS_EXAMPLE_CHART=/some/path.svg to look at the example chart.
        if let path = ProcessInfo.processInfo.environment["TITANS_EXAMPLE_CHART"] {
            try chart.write(to: URL(fileURLWithPath: path))
        }
    }
}

@Suite struct MarkdownTableTests {
    @Test func markdownTableRendersExactly() {
        let table = MarkdownTable(
            headers: ["model", "distance", "accuracy"],
            rows: [["MAC", "64", "0.98"], ["sliding window", "2048", "0.02"]],
            alignments: [.left, .right, .center])
        #expect(table.render() == """
            | model          | distance | accuracy |
            | :------------- | -------: | :------: |
            | MAC            |       64 |   0.98   |
            | sliding window |     2048 |   0.02   |

            """)
    }

    @Test func markdownTableEscapesPipesAndLineBreaks() {
        let table = MarkdownTable(headers: ["a", "b|c"], rows: [["x\ny", "1|2"], ["p\r\nq"]])
        #expect(table.render() == """
            | a      | b\\|c |
            | ------ | ---- |
            | x<br>y | 1\\|2 |
            | p<br>q |      |

            """)
    }

    @Test func markdownTableHandlesRaggedAndEmptyInput() {
        #expect(MarkdownTable(headers: []).render() == "")
        #expect(MarkdownTable(headers: ["h"]).render() == "| h   |\n| --- |\n")
        var table = MarkdownTable(headers: ["h"])
        table.append(["1", "2"])
        #expect(table.render() == "| h   |     |\n| --- | --- |\n| 1   | 2   |\n")
    }
}
