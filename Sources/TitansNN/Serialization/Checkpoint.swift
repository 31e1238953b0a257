import Foundation

/// Everything needed to resume training, saved as ONE safetensors file.
///
/// Layout of the file:
/// - tensors `model.<dotted parameter name>` and `optimizer.<optimizer state name>` (e.g. `optimizer.adamw.m.<name>`);
/// - `__metadata__` strings: `format` (``formatVersion``), `step`, `rng_state` (the generator's JSON),
///   `config` (the model configuration's JSON), every entry of ``metadata`` under its own key, and `checksum`:
///   `crc32:` and eight hex digits, the CRC-32 of everything else in the file (``SafetensorsFile`` "content
///   checksum"), which loading verifies.
///
/// ```swift
/// try Checkpoint(parameters: model.namedParameters(), optimizerState: optimizer.state, step: step,
///                rngState: rng, config: configJSON).save(to: url)
/// let checkpoint = try Checkpoint.load(from: url)
/// try checkpoint.restore(into: model.namedParameters(), optimizer: optimizer, expectedConfig: configJSON)
/// rng = checkpoint.rngState
/// ```
///
/// The tensors are referenced, not copied: save a checkpoint before the next optimiser step changes them.
public struct Checkpoint {
    /// Model parameters under their dotted names.
    public var parameters: [(name: String, tensor: Tensor)]
    /// Optimiser state (e.g. ``AdamW/state``); empty when there is none.
    public var optimizerState: [(name: String, tensor: Tensor)]
    /// The number of optimiser steps taken.
    public var step: Int
    /// The random generator's state, to resume the same sequence of batches.
    public var rngState: RandomGenerator
    /// The model configuration as JSON; compared (as JSON values) against the configuration of the model a
    /// checkpoint is restored into.
    public var config: String
    /// Extra string metadata (e.g. the data file, the git commit); keys must not be the reserved ones.
    public var metadata: [String: String]
    /// True when it was read from a file written before checkpoints carried a checksum (``legacyFormatVersion``):
    /// its bytes could not be verified.
    public private(set) var unverified = false

    /// The version of the layout described above, stored as metadata `format`.
    public static let formatVersion = "titans-checkpoint-2"
    /// The layout before the checksum: still read, unverified.
    public static let legacyFormatVersion = "titans-checkpoint-1"
    /// Metadata keys used by the checkpoint itself.
    public static let reservedMetadataKeys: Set<String> = ["format", "step", "rng_state", "config", checksumKey]
    static let checksumKey = "checksum"
    static let modelPrefix = "model."
    static let optimizerPrefix = "optimizer."

    public init(parameters: [(name: String, tensor: Tensor)], optimizerState: [(name: String, tensor: Tensor)] = [],
                step: Int, rngState: RandomGenerator, config: String, metadata: [String: String] = [:]) {
        self.parameters = parameters
        self.optimizerState = optimizerState
        self.step = step
        self.rngState = rngState
        self.config = config
        self.metadata = metadata
    }

    // MARK: Saving and loading

    /// Writes the checkpoint to `url` atomically (a temporary file renamed over it): when saving fails, a file
    /// already at `url` is left as it was.
    ///
    /// - Throws: ``CheckpointError/reservedMetadataKey(_:)``, or a ``SafetensorsError`` when writing fails.
    public func save(to url: URL) throws {
        if let key = metadata.keys.sorted().first(where: Self.reservedMetadataKeys.contains) {
            throw CheckpointError.reservedMetadataKey(key)
        }
        precondition(step >= 0, "Checkpoint: step (\(step)) must not be negative")
        var allMetadata = metadata
        allMetadata["format"] = Self.formatVersion
        allMetadata["step"] = String(step)
        allMetadata["rng_state"] = String(decoding: try JSONEncoder().encode(rngState), as: UTF8.self)
        allMetadata["config"] = config
        let tensors = parameters.map { (Self.modelPrefix + $0.name, $0.tensor) }
            + optimizerState.map { (Self.optimizerPrefix + $0.name, $0.tensor) }
        let checksum = try SafetensorsFile.contentChecksum(of: tensors, metadata: allMetadata, excluding: Self.checksumKey)
        allMetadata[Self.checksumKey] = Self.checksumText(checksum)
        try SafetensorsFile.write(tensors, metadata: allMetadata, to: url)
    }

    /// Reads a checkpoint written by ``save(to:)``.
    ///
    /// - Throws: a ``SafetensorsError`` when the file is missing, truncated or damaged; a ``CheckpointError`` when
    ///   it is a valid safetensors file but not a checkpoint (missing or invalid metadata, foreign tensors), when
    ///   its content does not match its checksum, or when a tensor holds a value that is not finite.
    public static func load(from url: URL) throws -> Checkpoint {
        try load(from: try SafetensorsFile.read(from: url))
    }

    /// Reads a checkpoint from a safetensors file already read (or bytes parsed with ``SafetensorsFile/init(bytes:fileName:)``).
    public static func load(from file: SafetensorsFile) throws -> Checkpoint {
        let name = file.fileName
        guard let format = file.metadata["format"] else { throw CheckpointError.notACheckpoint(file: name) }
        guard format == formatVersion || format == legacyFormatVersion else {
            throw CheckpointError.unsupportedFormat(file: name, format: format)
        }
        func required(_ key: String) throws -> String {
            guard let value = file.metadata[key] else { throw CheckpointError.missingMetadata(file: name, key: key) }
            return value
        }
        if format == formatVersion {
            let recorded = try required(checksumKey)
            let actual = checksumText(file.contentChecksum(excluding: checksumKey))
            guard recorded == actual else { throw CheckpointError.checksumMismatch(file: name, recorded: recorded, actual: actual) }
        }
        let stepText = try required("step")
        guard let step = Int(stepText), step >= 0 else {
            throw CheckpointError.invalidMetadata(file: name, key: "step", problem: "\"\(stepText)\" is not a non-negative whole number")
        }
        let rngText = try required("rng_state")
        let rngState: RandomGenerator
        do {
            rngState = try JSONDecoder().decode(RandomGenerator.self, from: Data(rngText.utf8))
        } catch {
            throw CheckpointError.invalidMetadata(file: name, key: "rng_state", problem: "it is not a random generator's JSON state")
        }
        guard rngState.state.count == 4 else {
            throw CheckpointError.invalidMetadata(file: name, key: "rng_state",
                                                  problem: "it holds \(rngState.state.count) words instead of 4")
        }
        let config = try required("config")
        var parameters: [(name: String, tensor: Tensor)] = []
        var optimizerState: [(name: String, tensor: Tensor)] = []
        for tensorName in file.names {
            if tensorName.hasPrefix(modelPrefix) {
                parameters.append((String(tensorName.dropFirst(modelPrefix.count)), try file.tensor(named: tensorName)))
            } else if tensorName.hasPrefix(optimizerPrefix) {
                optimizerState.append((String(tensorName.dropFirst(optimizerPrefix.count)), try file.tensor(named: tensorName)))
            } else {
                throw CheckpointError.foreignTensor(file: name, name: tensorName)
            }
        }
        for (tensorName, tensor) in parameters.map({ (modelPrefix + $0.name, $0.tensor) })
            + optimizerState.map({ (optimizerPrefix + $0.name, $0.tensor) }) where !tensor.allFinite {
            throw CheckpointError.nonFiniteTensor(file: name, name: tensorName)
        }
        let extra = file.metadata.filter { !reservedMetadataKeys.contains($0.key) }
        var checkpoint = Checkpoint(parameters: parameters, optimizerState: optimizerState, step: step, rngState: rngState,
                                    config: config, metadata: extra)
        checkpoint.unverified = format == legacyFormatVersion
        return checkpoint
    }

    /// How the checksum is written in the metadata.
    static func checksumText(_ checksum: UInt32) -> String {
        let hex = String(checksum, radix: 16)
        return "crc32:" + String(repeating: "0", count: 8 - hex.count) + hex
    }

    // MARK: Restoring

    /// Copies the saved parameters into `parameters` (and the saved optimiser state into `optimizer`), in place.
    ///
    /// Everything is checked first: `expectedConfig` (when given) must equal ``config`` as JSON, the names must
    /// match exactly, and every shape and dtype must agree; `optimizer`, when given, must accept the saved state.
    /// When any check fails this throws a ``CheckpointError`` and nothing has been modified.
    ///
    /// The step and generator state are not applied here: read them from ``step`` and ``rngState``.
    public func restore(into parameters: [(name: String, tensor: Tensor)], optimizer: AdamW?,
                        expectedConfig: String?) throws {
        try validate(parameters, optimizer: optimizer, expectedConfig: expectedConfig)
        let saved = Dictionary(self.parameters.map { ($0.name, $0.tensor) }, uniquingKeysWith: { first, _ in first })
        for (name, tensor) in parameters { tensor.assign(saved[name]!) }
        try optimizer?.loadState(optimizerState)
    }

    /// Runs every check of ``restore(into:optimizer:expectedConfig:)`` without modifying anything.
    public func validate(_ parameters: [(name: String, tensor: Tensor)], optimizer: AdamW?,
                         expectedConfig: String?) throws {
        if let expectedConfig, !Self.sameJSON(expectedConfig, config) {
            throw CheckpointError.configMismatch(expected: expectedConfig, found: config,
                                                 differingKeys: Self.differingKeys(expectedConfig, config))
        }
        var saved: [String: Tensor] = [:]
        for (name, tensor) in self.parameters {
            if saved.updateValue(tensor, forKey: name) != nil { throw CheckpointError.duplicateParameter(name) }
        }
        var targetNames = Set<String>()
        for (name, tensor) in parameters {
            guard targetNames.insert(name).inserted else { throw CheckpointError.duplicateParameter(name) }
            guard let stored = saved[name] else {
                throw CheckpointError.missingParameter(name, available: self.parameters.map(\.name))
            }
            if stored.shape != tensor.shape {
                throw CheckpointError.shapeMismatch(name, expected: tensor.shape, found: stored.shape)
            }
            if stored.dtype != tensor.dtype {
                throw CheckpointError.dtypeMismatch(name, expected: tensor.dtype, found: stored.dtype)
            }
        }
        if let extra = self.parameters.map(\.name).first(where: { !targetNames.contains($0) }) {
            throw CheckpointError.unexpectedParameter(extra)
        }
        if let optimizer {
            if optimizerState.isEmpty { throw CheckpointError.missingOptimizerState }
            do {
                try optimizer.validateState(optimizerState)
            } catch let error as OptimizerStateError {
                throw CheckpointError.optimizerState(error)
            }
        }
    }

    /// Whether two JSON texts hold the same value (key order and spacing aside); texts that are not JSON are
    /// compared as they are.
    static func sameJSON(_ a: String, _ b: String) -> Bool {
        if a == b { return true }
        guard let x = parseJSON(a), let y = parseJSON(b) else { return false }
        return jsonEqual(x, y)
    }

    /// The top-level keys whose values differ, when both texts are JSON objects.
    static func differingKeys(_ a: String, _ b: String) -> [String] {
        guard let x = parseJSON(a) as? [String: Any], let y = parseJSON(b) as? [String: Any] else { return [] }
        return Set(x.keys).union(y.keys).filter { key in
            guard let u = x[key], let v = y[key] else { return true }
            return !jsonEqual(u, v)
        }.sorted()
    }

    private static func parseJSON(_ text: String) -> Any? {
        try? JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])
    }

    /// Structural equality of values made by `JSONSerialization` (numbers compare by value).
    private static func jsonEqual(_ a: Any, _ b: Any) -> Bool {
        switch (a, b) {
        case let (x as [String: Any], y as [String: Any]):
            return x.count == y.count && x.allSatisfy { key, value in y[key].map { jsonEqual(value, $0) } ?? false }
        case let (x as [Any], y as [Any]):
            return x.count == y.count && zip(x, y).allSatisfy { jsonEqual($0, $1) }
        case let (x as String, y as String):
            return x == y
        case let (x as NSNumber, y as NSNumber):
            return x == y
        case (is NSNull, is NSNull):
            return true
        default:
            return false
        }
    }
}

/// Why a checkpoint could not be saved, read or restored. Each message says what is wrong and what to do.
///
/// Damaged or missing files are reported by ``SafetensorsError`` instead.
///
/// ```swift
/// do { _ = try Checkpoint.load(from: url) } catch let error as CheckpointError { print(error) }   // says what to do
/// ```
public enum CheckpointError: Error, CustomStringConvertible, Equatable, Sendable {
    case notACheckpoint(file: String)
    case unsupportedFormat(file: String, format: String)
    case missingMetadata(file: String, key: String)
    case invalidMetadata(file: String, key: String, problem: String)
    case foreignTensor(file: String, name: String)
    case checksumMismatch(file: String, recorded: String, actual: String)
    case nonFiniteTensor(file: String, name: String)
    case reservedMetadataKey(String)
    /// The configuration saved (`found`) differs from the one expected; `differingKeys` lists the top-level keys
    /// whose values differ, when both are JSON objects.
    case configMismatch(expected: String, found: String, differingKeys: [String])
    case missingParameter(String, available: [String])
    case unexpectedParameter(String)
    case duplicateParameter(String)
    case shapeMismatch(String, expected: [Int], found: [Int])
    case dtypeMismatch(String, expected: DType, found: DType)
    case missingOptimizerState
    case optimizerState(OptimizerStateError)

    private static let otherModel = "the checkpoint was saved from a different model configuration; build the model "
        + "with the configuration saved in the checkpoint, or start from scratch"

    public var description: String {
        switch self {
        case .notACheckpoint(let file):
            return "\(file) is a safetensors file but not a Titans checkpoint (its metadata has no \"format\"); "
                + "load plain weights with SafetensorsFile.read instead, or pass a checkpoint file"
        case .unsupportedFormat(let file, let format):
            return "\(file) has checkpoint format \"\(format)\", but this version reads \"\(Checkpoint.formatVersion)\"; "
                + "use the version of Titans that wrote it"
        case .missingMetadata(let file, let key):
            return "\(file) lacks the checkpoint metadata \"\(key)\"; it is damaged or was not written by "
                + "Checkpoint.save — use an earlier checkpoint"
        case .invalidMetadata(let file, let key, let problem):
            return "\(file): checkpoint metadata \"\(key)\" is invalid: \(problem); it is damaged — use an earlier checkpoint"
        case .foreignTensor(let file, let name):
            return "\(file) holds tensor \"\(name)\", which is neither \"model.…\" nor \"optimizer.…\"; "
                + "it was not written by Checkpoint.save — use an earlier checkpoint"
        case .checksumMismatch(let file, let recorded, let actual):
            return "\(file) is damaged: its content has checksum \(actual) but the file records \(recorded), so some "
                + "bytes changed after it was written; nothing was loaded — use an earlier copy of the checkpoint"
        case .nonFiniteTensor(let file, let name):
            return "\(file) holds values that are not finite (NaN or infinite) in tensor \"\(name)\"; nothing was "
                + "loaded — use an earlier checkpoint of the run"
        case .reservedMetadataKey(let key):
            return "cannot save a checkpoint with extra metadata \"\(key)\": the checkpoint uses that key itself; "
                + "rename it (reserved: \(Checkpoint.reservedMetadataKeys.sorted().joined(separator: ", ")))"
        case .configMismatch(let expected, let found, let keys):
            let which = keys.isEmpty ? "" : " (differing: \(keys.joined(separator: ", ")))"
            return "the checkpoint's model configuration differs from this model's\(which): saved \(found), "
                + "current \(expected); resume with the saved configuration, or start a new run in another directory"
        case .missingParameter(let name, let available):
            let shown = available.prefix(6).map { "\"\($0)\"" }.joined(separator: ", ")
            return "the checkpoint has no parameter \"\(name)\" (it holds \(available.count): \(shown)"
                + "\(available.count > 6 ? ", …" : "")); " + Self.otherModel
        case .unexpectedParameter(let name):
            return "the checkpoint holds parameter \"\(name)\", which this model lacks; " + Self.otherModel
        case .duplicateParameter(let name):
            return "parameter \"\(name)\" is listed more than once; give every parameter a distinct name"
        case .shapeMismatch(let name, let expected, let found):
            return "parameter \"\(name)\" has shape \(found) in the checkpoint but \(expected) in this model; " + Self.otherModel
        case .dtypeMismatch(let name, let expected, let found):
            return "parameter \"\(name)\" has dtype \(found) in the checkpoint but \(expected) in this model; "
                + "build the model with dtype \(found), or convert the checkpoint"
        case .missingOptimizerState:
            return "the checkpoint holds no optimizer state; pass optimizer: nil to restore the weights only "
                + "(the optimizer then starts afresh)"
        case .optimizerState(let error):
            return "cannot restore the optimizer: \(error)"
        }
    }
}
