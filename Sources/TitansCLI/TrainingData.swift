import ArgumentParser
import Foundation
import TitansTraining

/// What `titans train` reads: the bytes of any file (`--data`), or a token file made by `titans data prepare`
/// (`--tokens`), whose tokenizer the checkpoint then carries.
enum TrainingData {
    case bytes(path: String, validationFraction: Double)
    case tokens(path: String)

    /// The data a new run names; exactly one of `data` and `tokens`.
    static func chosen(data: String?, tokens: String?, validationFraction: Double?) throws -> TrainingData {
        switch (data, tokens) {
        case let (data?, nil):
            let fraction = validationFraction ?? ByteDataset.defaultValidationFraction
            guard (0..<1).contains(fraction) else {
                throw ValidationError("--validation-fraction must be in [0, 1), e.g. 0.1 to hold out the last 10% of the bytes")
            }
            return .bytes(path: data, validationFraction: fraction)
        case let (nil, tokens?):
            guard validationFraction == nil else {
                throw ValidationError("a token file holds out its own tokens (titans data prepare --validation-fraction); drop --validation-fraction")
            }
            return .tokens(path: tokens)
        case (nil, nil): throw ValidationError("pass the training data with --data FILE (any file: its bytes) or --tokens FILE (from titans data prepare)")
        case (_?, _?): throw ValidationError("pass either --data or --tokens, not both")
        }
    }

    /// The data a checkpoint's run was trained on, unless `data` or `tokens` names it again (moved files).
    static func resumed(_ metadata: [String: String], data: String?, tokens: String?) throws -> TrainingData {
        if metadata["tokens"] != nil || tokens != nil {
            guard data == nil else { throw ValidationError("this run trains on a token file; give --tokens, not --data") }
            guard let path = tokens ?? metadata["tokens"] else { throw ValidationError("pass the run's token file with --tokens") }
            return .tokens(path: path)
        }
        guard let path = data ?? metadata["data"] else {
            throw ValidationError("the checkpoint does not say which data it was trained on; pass it with --data")
        }
        let fraction = metadata["validation_fraction"].flatMap(Double.init) ?? ByteDataset.defaultValidationFraction
        return .bytes(path: path, validationFraction: fraction)
    }

    var path: String {
        switch self {
        case .bytes(let path, _), .tokens(let path): return path
        }
    }

    /// Opened: the batches, the vocabulary they need, the tokenizer of a token file, and the checkpoint metadata that
    /// names them. A token file must come from `expectedTokenizer`'s tokenizer when a resumed checkpoint carries one.
    func open(sequenceLength: Int, expectedTokenizer: String? = nil) throws
        -> (source: any BatchSource<TrainingBatch>, vocabularySize: Int, metadata: [String: String]) {
        switch self {
        case let .bytes(path, fraction):
            let dataset = try ByteDataset(contentsOf: URL(fileURLWithPath: path), validationFraction: fraction, minimumLength: sequenceLength)
            return (dataset, 256, ["data": path, "validation_fraction": String(fraction)])
        case .tokens(let path):
            let dataset = try TokenDataset(contentsOf: URL(fileURLWithPath: path), minimumLength: sequenceLength)
            let tokenizer = try dataset.file.tokenizer()
            if let expectedTokenizer, Data(expectedTokenizer.utf8) != tokenizer.json {
                throw TokenFileError.otherTokenizer(path: path, file: tokenizer.name, expected: "the one its checkpoint carries")
            }
            return (dataset, dataset.header.vocabularySize,
                    ["tokens": path, "tokenizer": String(decoding: tokenizer.json, as: UTF8.self), "tokenizer_name": tokenizer.name])
        }
    }
}
