/// Recall accuracy by distance on `RecallTask`: for each distance, the fraction of examples whose probe answer (the
/// last question's) is the model's most likely next byte after it.
///
/// ```swift
/// let accuracy = RecallEvaluation.accuracy(of: model, task: RecallTask(length: 256, facts: 4),
///                                          distances: [16, 64, 192], examples: 64)   // one fraction per distance
/// ```
public enum RecallEvaluation {
    /// Accuracy at each of `distances`, over `examples` fixed examples per distance (the same for every model).
    public static func accuracy(of model: LanguageModel, task: RecallTask, distances: [Int], examples: Int,
                                batchSize: Int = 16, seed: UInt64 = 0xACC) -> [Double] {
        distances.map { distance in
            var generator = RandomGenerator(seed: seed &+ UInt64(distance))
            var correct = 0, done = 0
            while done < examples {
                let n = min(batchSize, examples - done)
                let batch = task.batch(size: n, distances: distance...distance, generator: &generator)
                let logits = withoutGradients { model(batch.inputs).logits }
                // The logits at each example's answer position, [n, vocabulary].
                let probes = batch.questions.map { $0.last! }
                let rows = logits.take(alongAxis: 1, indices: IndexTensor(shape: [n, logits.shape[2]],
                    probes.flatMap { Array(repeating: $0.position, count: logits.shape[2]) }))
                let predicted = rows.argmax(axis: -1).values
                correct += zip(predicted, probes).filter { $0 == $1.answer }.count
                done += n
            }
            return Double(correct) / Double(examples)
        }
    }
}
