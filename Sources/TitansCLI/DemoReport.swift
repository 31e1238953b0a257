import TitansEval

extension DemoCommand {
    static func markdown(headers: [String], rows: [[String]]) -> String {
        MarkdownTable(headers: headers, rows: rows).render()
    }

    /// Accuracy by distance for each model, on a log₂ distance axis, with the attention window marked.
    static func chart(distances: [Int], window: Int, results: [(String, [Double])]) -> LineChart {
        var chart = LineChart(title: "Recall accuracy by distance", xLabel: "distance from fact to question (bytes)",
                              yLabel: "accuracy", series: results.map { name, accuracy in
                                  .init(name: name, points: zip(distances, accuracy).map { (Double($0), $1) })
                              })
        chart.logarithmicX = true
        chart.yRange = 0...1
        chart.reference = (Double(window), "attention window")
        return chart
    }
}
