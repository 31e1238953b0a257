import Foundation

/// Bits per byte of a byte-level model on text: windows of a fixed length, each read from a fresh state, their mean
/// cross-entropy in bits. The windows are the split's consecutive windows in order, so every model scores the same bytes.
///
/// ```swift
/// let data = try ByteDataset(contentsOf: url, validationFraction: 0.1, minimumLength: 256)
/// let score = TextEvaluation.bitsPerByte(of: model, on: data, split: .validation, length: 256)
/// print(score.bitsPerByte, score.bytes)
/// ```
public enum TextEvaluation {
    /// The mean bits per byte over the windows of `length` in `split`, at most `limit` bytes of them (whole windows;
    /// at least one), `batchSize` windows at a time; and how many bytes were scored (zero when no window fits).
    public static func bitsPerByte(of model: LanguageModel, on data: ByteDataset, split: ByteDataset.Split, length: Int,
                                   batchSize: Int = 8, limit: Int = .max) -> (bitsPerByte: Double, bytes: Int) {
        var nats = 0.0, bytes = 0
        for (inputs, targets) in data.sequentialBatches(split: split, batchSize: batchSize, length: length) {
            let rows = min(inputs.shape[0], max(1, (limit - bytes) / length))
            let (x, y) = rows == inputs.shape[0] ? (inputs, targets) : (inputs.rows(0..<rows), targets.rows(0..<rows))
            nats += withoutGradients { model.logits(x).crossEntropy(targets: y).item() } * Double(y.count)
            bytes += y.count
            if bytes + length > limit { break }
        }
        return (ByteDataset.bitsPerByte(nats: nats / Double(max(1, bytes))), bytes)
    }
}
