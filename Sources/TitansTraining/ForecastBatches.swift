import Foundation

/// Training draws a window of one column at a time, its start and column uniform over the training part; validation
/// takes windows spread evenly over the validation part, the columns in turn. The trainer's sequence length is the
/// lookback, its batch size the windows per step.
extension SeriesWindows: BatchSource {
    public func trainingBatch(size: Int, length: Int, generator: inout RandomGenerator) -> ForecastBatch {
        let starts = starts(.train)
        return batch((0..<size).map { _ in (starts.lowerBound + generator.uniformIndex(starts.count), generator.uniformIndex(channels)) })
    }

    public func validationBatches(size: Int, length: Int, limit: Int) -> [ForecastBatch] {
        let pairs = evenStarts(.validation, count: size * limit).enumerated().map { ($0.element, $0.offset % channels) }
        return stride(from: 0, to: pairs.count, by: size).map { batch(Array(pairs[$0..<min(pairs.count, $0 + size)])) }
    }
}

extension ForecastModel: TrainableModel {
    public func loss(on batch: ForecastBatch) -> Tensor { loss(history: batch.history, target: batch.target) }

    public func parts(of batch: ForecastBatch, count: Int) -> [(batch: ForecastBatch, weight: Double)] {
        let rows = batch.history.shape[0]
        return Parallel.evenRanges(rows, parts: count).map { range in
            (ForecastBatch(history: batch.history.slice(axis: 0, start: range.lowerBound, end: range.upperBound),
                           target: batch.target.slice(axis: 0, start: range.lowerBound, end: range.upperBound)), Double(range.count) / Double(rows))
        }
    }

    public var configurationJSON: String { sortedJSONText(configuration) }

    public static func currentConfigurationJSON(_ json: String) -> String? {
        (try? JSONDecoder().decode(ForecastConfiguration.self, from: Data(json.utf8))).map { sortedJSONText($0) }
    }
}
