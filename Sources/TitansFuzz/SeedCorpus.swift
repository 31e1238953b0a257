#if !FUZZING
import Foundation
import TitansTraining

/// The seed corpus (tools/fuzz/corpus): small files of every kind the readers meet.
enum SeedCorpus {
    static func write(into folder: URL) throws {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        // A checkpoint of a small model, as `titans train` writes it (weights only, to stay small), and the same in
        // the first format, without a checksum.
        var rng = RandomGenerator(seed: 1)
        var config = ModelConfiguration.demo(.mag, window: 4)
        config.resize(width: 4, heads: 1)
        config.layers = 1
        config.vocabularySize = 8
        config.persistentTokens = 1
        let model = LanguageModel(config, generator: &rng)
        let configJSON = String(decoding: try JSONEncoder().encode(config), as: UTF8.self)
        let training = String(decoding: try JSONEncoder().encode(TrainingConfiguration.standard), as: UTF8.self)
        let checkpoint = Checkpoint(parameters: model.namedParameters(), step: 3, rngState: rng, config: configJSON,
                                    metadata: ["training": training, "data": "corpus.txt"])
        try checkpoint.save(to: folder.appendingPathComponent("checkpoint.safetensors"))
        let rngJSON = String(decoding: try JSONEncoder().encode(rng), as: UTF8.self)
        try SafetensorsFile.write(model.namedParameters().prefix(3).map { ("model." + $0.name, $0.tensor) },
                                  metadata: ["format": Checkpoint.legacyFormatVersion, "step": "1", "rng_state": rngJSON, "config": configJSON],
                                  to: folder.appendingPathComponent("checkpoint-format-1.safetensors"))
        // Plain tensors in both float types, and one file of every other dtype the reader knows, written by hand.
        try SafetensorsFile.write([("a", Tensor(shape: [2, 3], [1, 2, 3, 4, 5, 6])),
                                   ("b", Tensor(shape: [2], [0.5, -1], dtype: .float64)), ("empty", Tensor.zeros([0, 4]))],
                                  metadata: ["note": "plain"], to: folder.appendingPathComponent("plain.safetensors"))
        try handWritten().write(to: folder.appendingPathComponent("dtypes.safetensors"))
        // A small byte-level tokenizer and a token file made with it.
        let text = Array(String(repeating: "the memory learns while it reads; 記憶 🧠\n", count: 8).utf8)
        let tokenizer = try Tokenizer.trainByteLevel(on: [text], vocabularySize: 270, name: "seed")
        try tokenizer.write(to: folder.appendingPathComponent("tokenizer.json"))
        let scratch = folder.appendingPathComponent(".seed-text.txt")
        try Data(text).write(to: scratch)
        defer { try? FileManager.default.removeItem(at: scratch) }
        try TokenFile.prepare(.text(try TextCorpus(path: scratch.path)), tokenizer: tokenizer, validationFraction: 0.2,
                              to: folder.appendingPathComponent("seed.tokens"))
    }

    /// F16, BF16, I64, I32, U8 and BOOL tensors of two elements each.
    private static func handWritten() -> Data {
        let entries: [(String, String, Int)] = [("h", "F16", 2), ("g", "BF16", 2), ("l", "I64", 8), ("i", "I32", 4),
                                                ("u", "U8", 1), ("t", "BOOL", 1)]
        var offset = 0, fields: [String] = [], data: [UInt8] = []
        for (name, dtype, size) in entries {
            fields.append("\"\(name)\":{\"dtype\":\"\(dtype)\",\"shape\":[2],\"data_offsets\":[\(offset),\(offset + 2 * size)]}")
            data += (0..<(2 * size)).map { UInt8(truncatingIfNeeded: $0 * 37 + 1) }
            offset += 2 * size
        }
        var header = Array(("{" + fields.joined(separator: ",") + "}").utf8)
        while header.count % 8 != 0 { header.append(UInt8(ascii: " ")) }
        var bytes = (0..<8).map { UInt8(truncatingIfNeeded: UInt64(header.count) >> (8 * UInt64($0))) }
        bytes += header + data
        return Data(bytes)
    }
}
#endif
