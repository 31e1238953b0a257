import TitansNN

/// Everything that defines a ``SequenceClassifier``: the blocks and the class names. `Codable`: checkpoints keep it.
///
/// ```swift
/// let configuration = ClassifierConfiguration(backbone: ModelConfiguration(architecture: .lmm, width: 64),
///                                             classes: ["oct4", "mafk"])
/// ```
public struct ClassifierConfiguration: Codable, Equatable, Sendable {
    /// The embedding and blocks over the sequence's bytes (any architecture of this package).
    public var backbone: ModelConfiguration
    /// The class names, in the order of the logits.
    public var classes: [String]

    public init(backbone: ModelConfiguration, classes: [String]) {
        self.backbone = backbone
        self.classes = classes
    }

    /// Why this configuration cannot build a model, or `nil`.
    public var problem: String? {
        if classes.count < 2 { return "a classifier needs at least two classes, got \(classes.count)" }
        if Set(classes).count != classes.count { return "the class names must differ: \(classes.joined(separator: ", "))" }
        return backbone.problem
    }
}

/// A classifier of byte sequences (DNA, paper §5.6, Table 4): the bytes embedded, mixed by ``Block``s of any
/// architecture, normalised, averaged over the sequence, and mapped to one logit per class.
///
/// ```swift
/// let model = SequenceClassifier(configuration, generator: &rng)
/// let logits = model(IndexTensor(shape: [2, 200], bytes))   // [2, classes]
/// ```
public final class SequenceClassifier: Module {
    public let configuration: ClassifierConfiguration
    public let embedding: Tensor
    public let blocks: [Block]
    public let finalNorm: RMSNorm
    public let head: Linear

    public init(_ configuration: ClassifierConfiguration, dtype: DType = .float32, generator: inout RandomGenerator) {
        if let problem = configuration.problem { preconditionFailure("SequenceClassifier: \(problem)") }
        self.configuration = configuration
        let backbone = configuration.backbone
        embedding = Tensor.randomNormal([backbone.vocabularySize, backbone.width], standardDeviation: 0.02, dtype: dtype,
                                        generator: &generator).requiringGrad()
        blocks = (0..<backbone.layers).map { Block(backbone, index: $0, dtype: dtype, generator: &generator) }
        finalNorm = RMSNorm(backbone.width, dtype: dtype)
        head = Linear(backbone.width, configuration.classes.count, dtype: dtype, generator: &generator)
    }

    /// Logits `[batch, classes]` for `tokens` `[batch, time]`.
    public func callAsFunction(_ tokens: IndexTensor) -> Tensor {
        precondition(tokens.shape.count == 2, "SequenceClassifier: tokens must be [batch, time], got \(tokens.shape)")
        var h = embedding.indexSelect(axis: 0, indices: tokens)
        for block in blocks { h = block(h, state: nil).0 }
        return head(finalNorm(h).mean(axis: 1))
    }

    /// Mean cross-entropy of the logits for `tokens` against the classes `labels` `[batch]`.
    public func loss(tokens: IndexTensor, labels: IndexTensor) -> Tensor {
        self(tokens).crossEntropy(targets: labels)
    }
}
