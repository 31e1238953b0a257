import Foundation
import Testing
@testable import TitansNN

/// A two-layer model small enough to check element by element.
final class TinyModel: Module {
    let hidden: TinyLayer
    let output: TinyLayer

    init(width: Int, seed: UInt64, dtype: DType = .float32) {
        var rng = RandomGenerator(seed: seed)
        hidden = TinyLayer(inputs: 3, outputs: width, dtype: dtype, generator: &rng)
        output = TinyLayer(inputs: width, outputs: 2, dtype: dtype, generator: &rng)
    }

    /// Gives every parameter a gradient drawn from `rng`.
    func fakeGradients(_ rng: inout RandomGenerator) {
        for p in parameters() { p.grad = Tensor.randomNormal(p.shape, dtype: p.dtype, generator: &rng) }
    }

    /// Every parameter's values, to check that nothing changed.
    func snapshot() -> [[Double]] { parameters().map { $0.toArray() } }
}

final class TinyLayer: Module {
    let weight: Tensor
    let bias: Tensor

    init(inputs: Int, outputs: Int, dtype: DType, generator: inout RandomGenerator) {
        weight = Tensor.randomNormal([outputs, inputs], dtype: dtype, generator: &generator)
        bias = Tensor.randomNormal([outputs], dtype: dtype, generator: &generator)
    }
}

let config = #"{"width": 4, "layers": 2, "name": "tiny"}"#

/// A model trained for three fake steps, its optimizer, and a checkpoint of both saved at `url`.
func trainedCheckpoint(at url: URL) throws -> (model: TinyModel, optimizer: AdamW, rng: RandomGenerator) {
    let model = TinyModel(width: 4, seed: 1)
    let optimizer = AdamW(model.namedParameters(), learningRate: 0.01)
    var rng = RandomGenerator(seed: 2024)
    for _ in 0..<3 {
        model.fakeGradients(&rng)
        optimizer.step()
    }
    try Checkpoint(parameters: model.namedParameters(), optimizerState: optimizer.state, step: 3, rngState: rng,
                   config: config, metadata: ["data": "enwik8", "note": "unit test"]).save(to: url)
    return (model, optimizer, rng)
}

/// Expects `body` to throw an error equal to `expected` (via `matches`) whose message contains `parts`.
func expectError<E: Error & CustomStringConvertible>(
    _ errorType: E.Type, _ parts: [String] = [], sourceLocation: SourceLocation = #_sourceLocation,
    _ matches: (E) -> Bool, _ body: () throws -> Void
) {
    do {
        try body()
        Issue.record("expected \(E.self), but nothing was thrown", sourceLocation: sourceLocation)
    } catch let error as E {
        #expect(matches(error), "unexpected error: \(error)", sourceLocation: sourceLocation)
        for part in parts {
            #expect(error.description.contains(part), "message lacks \"\(part)\": \(error)", sourceLocation: sourceLocation)
        }
    } catch {
        Issue.record("expected \(E.self), got \(type(of: error)): \(error)", sourceLocation: sourceLocation)
    }
}

@Suite("Checkpoint")
struct CheckpointTests {
    @Test func roundTripRestoresEverythingAndContinuesIdentically() throws {
        let scratch = try Scratch()
        defer { scratch.cleanUp() }
        let url = scratch.file("step-3.safetensors")
        let (model, optimizer, savedRNG) = try trainedCheckpoint(at: url)
        var rng = savedRNG
        #expect(try scratch.contents() == ["step-3.safetensors"])

        let checkpoint = try Checkpoint.load(from: url)
        #expect(checkpoint.step == 3)
        #expect(checkpoint.rngState == rng)
        #expect(checkpoint.config == config)
        #expect(checkpoint.metadata == ["data": "enwik8", "note": "unit test"])
        #expect(checkpoint.parameters.map(\.name) == ["hidden.weight", "hidden.bias", "output.weight", "output.bias"])

        let restored = TinyModel(width: 4, seed: 77)
        let restoredOptimizer = AdamW(restored.namedParameters(), learningRate: 0.01)
        // Key order and spacing of the configuration do not matter.
        try checkpoint.restore(into: restored.namedParameters(), optimizer: restoredOptimizer,
                               expectedConfig: #"{"name":"tiny","layers":2,"width":4}"#)
        var restoredRNG = checkpoint.rngState
        #expect(restored.snapshot() == model.snapshot())
        #expect(restoredOptimizer.stepCount == 3)
        #expect(restoredOptimizer.state.map(\.name) == optimizer.state.map(\.name))
        #expect(restoredOptimizer.state.map { $0.tensor.toArray() } == optimizer.state.map { $0.tensor.toArray() })

        for _ in 0..<2 {
            model.fakeGradients(&rng)
            optimizer.step()
            restored.fakeGradients(&restoredRNG)
            restoredOptimizer.step()
        }
        #expect(restored.snapshot() == model.snapshot())
    }

    @Test func float64ParametersAndWeightsOnlyRestore() throws {
        let scratch = try Scratch()
        defer { scratch.cleanUp() }
        let url = scratch.file("f64.safetensors")
        let model = TinyModel(width: 3, seed: 5, dtype: .float64)
        try Checkpoint(parameters: model.namedParameters(), step: 0, rngState: RandomGenerator(seed: 1), config: "{}")
            .save(to: url)
        let checkpoint = try Checkpoint.load(from: url)
        #expect(checkpoint.optimizerState.isEmpty)
        let target = TinyModel(width: 3, seed: 6, dtype: .float64)
        try checkpoint.restore(into: target.namedParameters(), optimizer: nil, expectedConfig: nil)
        #expect(target.snapshot().map { $0.map(\.bitPattern) } == model.snapshot().map { $0.map(\.bitPattern) })

        // Asking for optimizer state that was never saved is refused, and changes nothing.
        let other = TinyModel(width: 3, seed: 7, dtype: .float64)
        let before = other.snapshot()
        expectError(CheckpointError.self, ["optimizer: nil"], { $0 == .missingOptimizerState }) {
            try checkpoint.restore(into: other.namedParameters(), optimizer: AdamW(other.namedParameters()), expectedConfig: nil)
        }
        #expect(other.snapshot() == before)
    }

    @Test func truncatedFileIsRefused() throws {
        let scratch = try Scratch()
        defer { scratch.cleanUp() }
        let url = scratch.file("ckpt.safetensors")
        _ = try trainedCheckpoint(at: url)
        let bytes = try Data(contentsOf: url)
        try bytes.prefix(bytes.count - 10).write(to: url)
        expectError(SafetensorsError.self, ["truncated", "earlier copy"], {
            if case .truncated = $0 { return true } else { return false }
        }) { _ = try Checkpoint.load(from: url) }
        try bytes.prefix(5).write(to: url)
        expectError(SafetensorsError.self, [], { if case .fileTooShort = $0 { return true } else { return false } }) {
            _ = try Checkpoint.load(from: url)
        }
    }

    @Test func corruptedHeaderIsRefused() throws {
        let scratch = try Scratch()
        defer { scratch.cleanUp() }
        let url = scratch.file("ckpt.safetensors")
        _ = try trainedCheckpoint(at: url)
        var bytes = try Data(contentsOf: url)
        bytes[8] = UInt8(ascii: "#")  // the header's opening brace
        try bytes.write(to: url)
        expectError(SafetensorsError.self, ["not valid JSON"], {
            if case .headerNotJSON = $0 { return true } else { return false }
        }) { _ = try Checkpoint.load(from: url) }
    }

    @Test func damagedMetadataAndForeignFilesAreRefused() throws {
        let scratch = try Scratch()
        defer { scratch.cleanUp() }
        let url = scratch.file("weights.safetensors")
        let model = TinyModel(width: 4, seed: 1)
        try SafetensorsFile.write(model.namedParameters(), to: url)
        expectError(CheckpointError.self, ["not a Titans checkpoint"], { $0 == .notACheckpoint(file: "weights.safetensors") }) {
            _ = try Checkpoint.load(from: url)
        }
        let prefixed = model.namedParameters().map { (name: "model." + $0.name, tensor: $0.tensor) }
        try SafetensorsFile.write(prefixed, metadata: ["format": Checkpoint.legacyFormatVersion, "step": "-4", "rng_state": "x", "config": ""], to: url)
        expectError(CheckpointError.self, ["step"], {
            if case .invalidMetadata(_, "step", _) = $0 { return true } else { return false }
        }) { _ = try Checkpoint.load(from: url) }
        try SafetensorsFile.write(prefixed, metadata: ["format": Checkpoint.legacyFormatVersion, "step": "4", "rng_state": "x", "config": ""], to: url)
        expectError(CheckpointError.self, ["rng_state"], {
            if case .invalidMetadata(_, "rng_state", _) = $0 { return true } else { return false }
        }) { _ = try Checkpoint.load(from: url) }
        try SafetensorsFile.write(prefixed, metadata: ["format": Checkpoint.legacyFormatVersion, "step": "4"], to: url)
        expectError(CheckpointError.self, ["rng_state"], { $0 == .missingMetadata(file: "weights.safetensors", key: "rng_state") }) {
            _ = try Checkpoint.load(from: url)
        }
    }

    @Test func wrongConfigIsRefusedAndLeavesTheModelUnchanged() throws {
        let scratch = try Scratch()
        defer { scratch.cleanUp() }
        let url = scratch.file("ckpt.safetensors")
        _ = try trainedCheckpoint(at: url)
        let checkpoint = try Checkpoint.load(from: url)
        let target = TinyModel(width: 4, seed: 9)
        let optimizer = AdamW(target.namedParameters())
        let before = target.snapshot()
        let other = #"{"width": 4, "layers": 3, "name": "tiny"}"#
        expectError(CheckpointError.self, ["configuration differs", "layers", "start a new run"], {
            $0 == .configMismatch(expected: other, found: config, differingKeys: ["layers"])
        }) { try checkpoint.restore(into: target.namedParameters(), optimizer: optimizer, expectedConfig: other) }
        #expect(target.snapshot() == before)
        #expect(optimizer.stepCount == 0)
    }

    @Test func wrongShapesAreRefusedBeforeAnythingChanges() throws {
        let scratch = try Scratch()
        defer { scratch.cleanUp() }
        let url = scratch.file("ckpt.safetensors")
        _ = try trainedCheckpoint(at: url)
        let checkpoint = try Checkpoint.load(from: url)

        // A wider model: "hidden.weight" comes first and already differs.
        let wider = TinyModel(width: 5, seed: 9)
        let widerBefore = wider.snapshot()
        expectError(CheckpointError.self, ["hidden.weight", "[4, 3]", "[5, 3]"], {
            $0 == .shapeMismatch("hidden.weight", expected: [5, 3], found: [4, 3])
        }) { try checkpoint.restore(into: wider.namedParameters(), optimizer: nil, expectedConfig: nil) }
        #expect(wider.snapshot() == widerBefore)

        // Only the last parameter differs: the ones before it must not have been overwritten either.
        let target = TinyModel(width: 4, seed: 9)
        var named = target.namedParameters()
        named[3] = (name: "output.bias", tensor: Tensor.zeros([3]))
        let before = target.snapshot()
        expectError(CheckpointError.self, ["output.bias"], {
            $0 == .shapeMismatch("output.bias", expected: [3], found: [2])
        }) { try checkpoint.restore(into: named, optimizer: nil, expectedConfig: config) }
        #expect(target.snapshot() == before)
        #expect(named[3].tensor.toArray() == [0, 0, 0])

        // The same names and shapes in float64.
        let wide64 = TinyModel(width: 4, seed: 9, dtype: .float64)
        let before64 = wide64.snapshot()
        expectError(CheckpointError.self, ["dtype"], {
            $0 == .dtypeMismatch("hidden.weight", expected: .float64, found: .float32)
        }) { try checkpoint.restore(into: wide64.namedParameters(), optimizer: nil, expectedConfig: nil) }
        #expect(wide64.snapshot() == before64)
    }

    @Test func missingOrExtraTensorsAreRefused() throws {
        let scratch = try Scratch()
        defer { scratch.cleanUp() }
        let url = scratch.file("ckpt.safetensors")
        _ = try trainedCheckpoint(at: url)
        let checkpoint = try Checkpoint.load(from: url)
        let target = TinyModel(width: 4, seed: 9)
        let before = target.snapshot()

        var extended = target.namedParameters()
        extended.insert((name: "hidden.scale", tensor: Tensor.ones([4])), at: 1)
        expectError(CheckpointError.self, ["no parameter \"hidden.scale\"", "different model configuration"], {
            if case .missingParameter("hidden.scale", _) = $0 { return true } else { return false }
        }) { try checkpoint.restore(into: extended, optimizer: nil, expectedConfig: nil) }
        #expect(target.snapshot() == before)

        let reduced = Array(target.namedParameters().dropLast())
        expectError(CheckpointError.self, ["output.bias", "which this model lacks"], { $0 == .unexpectedParameter("output.bias") }) {
            try checkpoint.restore(into: reduced, optimizer: nil, expectedConfig: nil)
        }
        #expect(target.snapshot() == before)

        // A checkpoint file with one parameter removed.
        var partial = checkpoint
        partial.parameters.removeAll { $0.name == "output.weight" }
        let partialURL = scratch.file("partial.safetensors")
        try partial.save(to: partialURL)
        let loadedPartial = try Checkpoint.load(from: partialURL)
        let optimizer = AdamW(target.namedParameters())
        expectError(CheckpointError.self, ["output.weight"], {
            if case .missingParameter("output.weight", _) = $0 { return true } else { return false }
        }) { try loadedPartial.restore(into: target.namedParameters(), optimizer: optimizer, expectedConfig: config) }
        #expect(target.snapshot() == before)
        #expect(optimizer.stepCount == 0)

        // Optimizer state for another model: refused before the (matching) parameters are touched.
        var foreignState = checkpoint
        foreignState.optimizerState.removeAll { $0.name == "adamw.v.output.bias" }
        expectError(CheckpointError.self, ["adamw.v.output.bias"], {
            $0 == .optimizerState(.missingTensor(name: "adamw.v.output.bias"))
        }) { try foreignState.restore(into: target.namedParameters(), optimizer: optimizer, expectedConfig: config) }
        #expect(target.snapshot() == before)
        #expect(optimizer.stepCount == 0)
    }

    @Test func aFailedSaveLeavesTheExistingFileUntouched() throws {
        let scratch = try Scratch()
        defer { scratch.cleanUp() }
        let url = scratch.file("ckpt.safetensors")
        _ = try trainedCheckpoint(at: url)
        let original = try Data(contentsOf: url)
        let model = TinyModel(width: 4, seed: 3)
        let good = Checkpoint(parameters: model.namedParameters(), step: 9, rngState: RandomGenerator(seed: 3), config: config)

        var reserved = good
        reserved.metadata = ["step": "10"]
        expectError(CheckpointError.self, ["\"step\"", "rename it"], { $0 == .reservedMetadataKey("step") }) {
            try reserved.save(to: url)
        }
        var duplicated = good
        duplicated.parameters.append(duplicated.parameters[0])
        expectError(SafetensorsError.self, ["more than once"], {
            if case .invalidTensorName = $0 { return true } else { return false }
        }) { try duplicated.save(to: url) }
        expectError(SafetensorsError.self, ["does not exist"], {
            if case .directoryMissing = $0 { return true } else { return false }
        }) { try good.save(to: scratch.url.appendingPathComponent("missing/ckpt.safetensors")) }
        try FileManager.default.createDirectory(at: scratch.file("taken.safetensors"), withIntermediateDirectories: false)
        expectError(SafetensorsError.self, ["directory is in the way"], {
            if case .destinationIsDirectory = $0 { return true } else { return false }
        }) { try good.save(to: scratch.file("taken.safetensors")) }

        #expect(try Data(contentsOf: url) == original)
        #expect(try scratch.contents() == ["ckpt.safetensors", "taken.safetensors"])
        #expect(try Checkpoint.load(from: url).step == 3)

        // A successful save replaces it.
        try good.save(to: url)
        #expect(try Checkpoint.load(from: url).step == 9)
        #expect(try scratch.contents() == ["ckpt.safetensors", "taken.safetensors"])
    }

    @Test func configComparisonIsStructural() {
        #expect(Checkpoint.sameJSON(#"{"a": [1, 2.0, {"b": null}], "c": "x"}"#, #"{"c":"x","a":[1,2,{"b":null}]}"#))
        #expect(!Checkpoint.sameJSON(#"{"a": 1}"#, #"{"a": 2}"#))
        #expect(!Checkpoint.sameJSON(#"{"a": 1}"#, #"{"a": 1, "b": 1}"#))
        #expect(!Checkpoint.sameJSON("not json", "not  json"))
        #expect(Checkpoint.sameJSON("not json", "not json"))
        #expect(Checkpoint.differingKeys(#"{"a": 1, "b": 2}"#, #"{"a": 1, "b": 3, "c": 0}"#) == ["b", "c"])
    }
}
