import Foundation
import TitansTraining

/// What one fuzzing input goes through: everything `titans generate` and `titans train --resume` do with a file
/// before building a model, or, for a token file or a tokenizer.json, what `titans train --tokens` and
/// `titans tokenizer` do with it. Every outcome but a thrown error or success (a crash, a hang, a huge allocation) is a
/// bug.
enum FuzzTarget {
    /// How an input ended, for the plain loop's tally.
    enum Outcome: Hashable {
        case refusedByReader(String)
        case refusedAsCheckpoint(String)
        case plainSafetensors
        case checkpointWithoutModel
        case checkpointWithModel
        case refusedTokenFile
        case tokenFile
        case refusedTokenizer
        case tokenizer
    }

    /// Text every tokenizer input encodes and decodes: ASCII, accents, CJK, an emoji, invalid UTF-8, an added token.
    static let sample = Array("Hello, wörld! 記憶 🧠  <|endoftext|></s>\n\t".utf8) + [0xFF, 0xC3]

    static func run(_ bytes: Data) -> Outcome {
        if bytes.starts(with: Array("TITANSTK".utf8)) { return tokenFile(bytes) }
        if bytes.first == UInt8(ascii: "{") { return tokenizer(bytes) }
        return safetensors(bytes)
    }

    private static func tokenFile(_ bytes: Data) -> Outcome {
        guard let file = try? TokenFile(data: bytes, url: URL(fileURLWithPath: "input.tokens")) else { return .refusedTokenFile }
        _ = file.tokens(0..<min(file.header.tokens, 64))
        _ = file.documentEnds
        if let tokenizer = try? file.tokenizer() { _ = tokenizer.encode(bytes: sample) }
        return .tokenFile
    }

    private static func tokenizer(_ bytes: Data) -> Outcome {
        guard let tokenizer = try? Tokenizer(json: bytes, name: "input") else { return .refusedTokenizer }
        let ids = tokenizer.encode(bytes: sample)
        _ = try? tokenizer.decode(ids)
        _ = try? tokenizer.decode(Array(0..<min(tokenizer.vocabularySize, 64)))
        return .tokenizer
    }

    private static func safetensors(_ bytes: Data) -> Outcome {
        let file: SafetensorsFile
        do {
            file = try SafetensorsFile(bytes: bytes, fileName: "input")
        } catch {
            return .refusedByReader(kind(error))
        }
        // Every tensor, as the reader offers it.
        for info in file.infos {
            if info.dtype.isReadableAsTensor { _ = try? file.tensor(named: info.name) }
            if info.dtype.isReadableAsIndices { _ = try? file.indices(named: info.name) }
        }
        let checkpoint: Checkpoint
        do {
            checkpoint = try Checkpoint.load(from: file)
        } catch CheckpointError.notACheckpoint {
            return .plainSafetensors
        } catch {
            return .refusedAsCheckpoint(kind(error))
        }
        guard (try? checkpoint.modelConfiguration(file: "input")) != nil else { return .checkpointWithoutModel }
        _ = try? checkpoint.trainingSettings(file: "input")
        return .checkpointWithModel
    }

    /// An error's case name, without its values.
    private static func kind(_ error: Error) -> String {
        String(String(describing: Mirror(reflecting: error).children.first?.label ?? "\(error)").prefix(40))
    }
}
