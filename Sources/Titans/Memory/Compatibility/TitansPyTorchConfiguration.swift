import Foundation

/// The options of titans-pytorch's `NeuralMemory` (version 0.5.x) that ``TitansPyTorchMemory`` reproduces, with that
/// package's defaults. `tools/parity/README.md` describes what each one does.
///
/// ```swift
/// let configuration = TitansPyTorchConfiguration(width: 256, heads: 4, chunkSize: 64)
/// let memory = TitansPyTorchMemory(configuration, generator: &rng)
/// ```
public struct TitansPyTorchConfiguration: Codable, Equatable, Sendable {
    /// Model width D.
    public var width: Int
    public var heads: Int = 1
    /// Head width d; titans-pytorch's default is D, even with several heads.
    public var headWidth: Int
    /// Chunk size C: tokens whose gradients are summed into one step of the memory.
    public var chunkSize: Int = 1
    /// Commit size K (`batch_size`): gradients are taken at the weights committed every K tokens; `nil` takes every
    /// chunk's gradient at the initial weights.
    public var commitSize: Int? = nil
    /// Depth of the memory MLP and its hidden width as a multiple of d.
    public var memoryDepth: Int = 2
    public var expansionFactor: Double = 4
    /// θ = maxLearningRate · sigmoid(x̂ W_θ + b) (`default_step_transform_max_lr`).
    public var maxLearningRate: Double = 1
    public var momentum: Bool = true
    public var preNorm: Bool = true
    public var postNorm: Bool = false
    public var queryKeyNorm: Bool = false

    public init(width: Int, heads: Int = 1, headWidth: Int? = nil, chunkSize: Int = 1, commitSize: Int? = nil,
                memoryDepth: Int = 2, expansionFactor: Double = 4, maxLearningRate: Double = 1, momentum: Bool = true,
                preNorm: Bool = true, postNorm: Bool = false, queryKeyNorm: Bool = false) {
        self.width = width
        self.heads = heads
        self.headWidth = headWidth ?? width
        self.chunkSize = chunkSize
        self.commitSize = commitSize
        self.memoryDepth = memoryDepth
        self.expansionFactor = expansionFactor
        self.maxLearningRate = maxLearningRate
        self.momentum = momentum
        self.preNorm = preNorm
        self.postNorm = postNorm
        self.queryKeyNorm = queryKeyNorm
    }

    /// Hidden width of the memory MLP: `int(d · expansionFactor)`.
    public var hiddenWidth: Int { Int(Double(headWidth) * expansionFactor) }

    /// Input and output widths of the memory MLP's matrices, per head.
    public var memoryLayerWidths: [(input: Int, output: Int)] {
        (0..<memoryDepth).map { l in (l == 0 ? headWidth : hiddenWidth, l == memoryDepth - 1 ? headWidth : hiddenWidth) }
    }

    /// An error raised when a titans-pytorch configuration cannot be read or reproduced.
    ///
    /// ```swift
    /// do { _ = try TitansPyTorchConfiguration(titansPyTorchJSON: json) }
    /// catch let error as TitansPyTorchConfiguration.Unsupported { print(error) }
    /// ```
    public struct Unsupported: Error, CustomStringConvertible {
        public let description: String
    }

    /// Reads the JSON of a parity fixture's `config`: `dim` plus `NeuralMemory` constructor keyword arguments.
    /// Arguments this reproduction does not implement are refused by name rather than ignored.
    public init(titansPyTorchJSON json: String) throws {
        guard let data = json.data(using: .utf8),
              let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw Unsupported(description: "the fixture's config is not a JSON object")
        }
        guard let width = object["dim"] as? Int else { throw Unsupported(description: "the fixture's config has no integer \"dim\"") }
        self.init(width: width)
        let known: Set<String> = ["name", "seed", "batch", "seq_len", "dim", "perturb", "comment", "heads", "dim_head",
                                  "chunk_size", "batch_size", "momentum", "pre_rmsnorm", "post_rmsnorm", "qk_rmsnorm",
                                  "default_step_transform_max_lr", "default_model_kwargs"]
        let unknown = object.keys.filter { !known.contains($0) }.sorted()
        if !unknown.isEmpty { throw Unsupported(description: "unsupported titans-pytorch options: \(unknown.joined(separator: ", "))") }
        func int(_ key: String) throws -> Int? {
            guard let value = object[key], !(value is NSNull) else { return nil }
            guard let i = value as? Int else { throw Unsupported(description: "\"\(key)\" must be an integer") }
            return i
        }
        func bool(_ key: String) throws -> Bool? {
            guard let value = object[key] else { return nil }
            guard let b = value as? Bool else { throw Unsupported(description: "\"\(key)\" must be true or false") }
            return b
        }
        heads = try int("heads") ?? 1
        headWidth = try int("dim_head") ?? width
        chunkSize = try int("chunk_size") ?? 1
        commitSize = try int("batch_size")
        momentum = try bool("momentum") ?? true
        preNorm = try bool("pre_rmsnorm") ?? true
        postNorm = try bool("post_rmsnorm") ?? false
        queryKeyNorm = try bool("qk_rmsnorm") ?? false
        if let lr = object["default_step_transform_max_lr"] as? Double { maxLearningRate = lr }
        if let model = object["default_model_kwargs"] as? [String: Any] {
            // titans-pytorch replaces its whole default dict: a missing key takes MemoryMLP's own default.
            memoryDepth = model["depth"] as? Int ?? 2
            expansionFactor = model["expansion_factor"] as? Double ?? 2
        }
        if let k = commitSize, k % chunkSize != 0 {
            throw Unsupported(description: "batch_size \(k) must be a multiple of chunk_size \(chunkSize)")
        }
    }
}
