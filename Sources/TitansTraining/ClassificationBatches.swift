import Foundation

/// Training draws labelled sequences uniformly from the training part; there are no validation batches (the test part
/// is scored once, at the end).
extension LabelledSequences: BatchSource {
    public func trainingBatch(size: Int, length: Int, generator: inout RandomGenerator) -> ClassificationBatch {
        batch((0..<size).map { _ in training[generator.uniformIndex(training.count)] })
    }

    public func validationBatches(size: Int, length: Int, limit: Int) -> [ClassificationBatch] { [] }
}

extension SequenceClassifier: TrainableModel {
    public func loss(on batch: ClassificationBatch) -> Tensor { loss(tokens: batch.tokens, labels: batch.labels) }

    public func parts(of batch: ClassificationBatch, count: Int) -> [(batch: ClassificationBatch, weight: Double)] {
        let rows = batch.labels.shape[0]
        return Parallel.evenRanges(rows, parts: count).map { range in
            (ClassificationBatch(tokens: batch.tokens.rows(range), labels: batch.labels.rows(range)), Double(range.count) / Double(rows))
        }
    }

    public var configurationJSON: String { sortedJSONText(configuration) }

    public static func currentConfigurationJSON(_ json: String) -> String? {
        (try? JSONDecoder().decode(ClassifierConfiguration.self, from: Data(json.utf8))).map { sortedJSONText($0) }
    }
}
