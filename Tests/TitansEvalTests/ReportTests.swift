import Foundation
import Testing
@testable import TitansEval
#if canImport(FoundationXML)
import FoundationXML
#endif

struct ReportTests {
    @Test func markdownTableRendersExactly() {
        let table = MarkdownTable(headers: ["a", "b|c"], rows: [["1", "2"]])
        #expect(table.render() == "| a | b\\|c |\n| --- | --- |\n| 1 | 2 |\n")
    }

    @Test func chartIsWellFormedSVGWithEveryPart() {
        var chart = LineChart(title: "Recall <by> distance & window", xLabel: "distance", yLabel: "accuracy", series: [
            .init(name: "MAG", points: [(8, 0.9), (16, 0.8), (32, .nan), (64, 0.7)]),
            .init(name: "SWA", points: [(8, 0.9), (16, 0.1)]),
            .init(name: "empty", points: []),
        ])
        chart.logarithmicX = true
        chart.yRange = 0...1
        chart.reference = (8, "window")
        let svg = chart.svg()
        let parser = XMLParser(data: Data(svg.utf8))
        #expect(parser.parse(), "SVG is not well-formed XML")
        #expect(svg.contains("Recall &lt;by&gt; distance &amp; window"))
        #expect(svg.contains(">MAG<") && svg.contains(">SWA<") && svg.contains(">window<"))
        #expect(svg.components(separatedBy: "<polyline").count - 1 == 2)
        #expect(svg.components(separatedBy: "<circle").count - 1 == 5)  // the NaN point is skipped
        for tick in [">8<", ">16<", ">32<", ">64<"] { #expect(svg.contains(tick)) }
    }

    @Test func singlePointAndEmptyChartsDoNotCrash() {
        let one = LineChart(title: "t", xLabel: "x", yLabel: "y", series: [.init(name: "s", points: [(1, 1)])]).svg()
        let none = LineChart(title: "t", xLabel: "x", yLabel: "y", series: []).svg()
        #expect(XMLParser(data: Data(one.utf8)).parse() && XMLParser(data: Data(none.utf8)).parse())
    }
}
