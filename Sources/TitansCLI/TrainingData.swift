import ArgumentParser
import Foundation
import TitansTraining

/// What `titans train` reads: the bytes of any file (`--data`), a token file made by `titans data prepare`
/// (`--tokens`), whose tokenizer the checkpoint then carries, or prompt–answer examples (`--tasks`), scored on the
/// answers and, with a prompt weight, on the prompts.
enum TrainingData {
    case bytes(path: String, validationFraction: Double)
    case tokens(path: String)
    case tasks(path: String, validationFraction: Double, promptWeight: Double)

    /// The data a new run names; exactly one of `data`, `tokens` and `tasks`.
    static func chosen(data: String?, tokens: String?, tasks: String?, validationFraction: Double?,
                       promptWeight: Double? = nil) throws -> TrainingData {
        let named = [data, tokens, tasks].compactMap { $0 }
        guard named.count == 1 else {
            throw ValidationError(named.isEmpty
                ? "pass the training data with --data FILE (any file: its bytes), --tokens FILE (from titans data prepare) or --tasks FILE.jsonl (prompt–answer examples)"
                : "pass one of --data, --tokens and --tasks, not several")
        }
        if let promptWeight {
            guard tasks != nil else { throw ValidationError("--prompt-weight weighs the prompts of --tasks examples; drop it or train on --tasks") }
            guard promptWeight >= 0 && promptWeight <= 1 else {
                throw ValidationError("--prompt-weight must be in [0, 1]: 0 scores the answers only, 1 every byte alike")
            }
        }
        if let tokens {
            guard validationFraction == nil else {
                throw ValidationError("a token file holds out its own tokens (titans data prepare --validation-fraction); drop --validation-fraction")
            }
            return .tokens(path: tokens)
        }
        let fraction = validationFraction ?? ByteDataset.defaultValidationFraction
        guard (0..<1).contains(fraction) else {
            throw ValidationError("--validation-fraction must be in [0, 1), e.g. 0.1 to hold out the last 10% of the data")
        }
        return tasks.map { .tasks(path: $0, validationFraction: fraction, promptWeight: promptWeight ?? 0) }
            ?? .bytes(path: named[0], validationFraction: fraction)
    }

    /// The data a checkpoint's run was trained on, unless `data`, `tokens` or `tasks` names it again (moved files).
    static func resumed(_ metadata: [String: String], data: String?, tokens: String?, tasks: String?) throws -> TrainingData {
        let fraction = metadata["validation_fraction"].flatMap(Double.init) ?? ByteDataset.defaultValidationFraction
        if metadata["tokens"] != nil || tokens != nil {
            guard data == nil, tasks == nil else { throw ValidationError("this run trains on a token file; give --tokens, not --data or --tasks") }
            guard let path = tokens ?? metadata["tokens"] else { throw ValidationError("pass the run's token file with --tokens") }
            return .tokens(path: path)
        }
        if metadata["tasks"] != nil || tasks != nil {
            guard data == nil else { throw ValidationError("this run trains on prompt–answer examples; give --tasks, not --data") }
            guard let path = tasks ?? metadata["tasks"] else { throw ValidationError("pass the run's examples with --tasks") }
            let weight = metadata["prompt_weight"].map { Double($0) ?? .nan } ?? 0
            guard (0...1).contains(weight) else {
                throw ValidationError("the checkpoint's prompt weight (\(metadata["prompt_weight"] ?? "")) is damaged; start a new run")
            }
            return .tasks(path: path, validationFraction: fraction, promptWeight: weight)
        }
        guard let path = data ?? metadata["data"] else {
            throw ValidationError("the checkpoint does not say which data it was trained on; pass it with --data")
        }
        return .bytes(path: path, validationFraction: fraction)
    }

    var path: String {
        switch self {
        case .bytes(let path, _), .tokens(let path), .tasks(let path, _, _): return path
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
        case let .tasks(path, fraction, weight):
            let examples = try PromptAnswerFile.read(URL(fileURLWithPath: path))
            let batches = try TaskBatches(examples: examples, validationFraction: fraction, sequenceLength: sequenceLength, promptWeight: weight)
            return (batches, 256, ["tasks": path, "validation_fraction": String(fraction), "prompt_weight": String(weight)])
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
