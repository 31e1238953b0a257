import ArgumentParser
import Foundation
import TitansTraining

/// `titans generate`: continues a prompt with a trained checkpoint, streaming bytes as they are drawn.
struct GenerateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Continue a prompt with a trained model, streaming the bytes as they are produced.",
        discussion: "Each new byte costs the same however long the text gets: attention keeps its window, the memory "
            + "its streaming state (Transformer++'s full attention is the exception). Speed goes to standard error."
    )

    @Option(help: "A checkpoint written by `titans train`.") var checkpoint: String
    @Option(help: "The text to continue (its UTF-8 bytes).") var prompt: String
    @Option(help: "Bytes to generate.") var maxTokens = 200
    @Option(help: "Sampling temperature; 0 is greedy.") var temperature = 0.8
    @Option(help: "Keep only the k most likely bytes (0: off).") var topK = 0
    @Option(help: "Keep the most likely bytes up to this total probability (1: off).") var topP = 0.95
    @Option(help: "Seed for sampling.") var seed: UInt64 = 0

    @OptionGroup var computeDevice: DeviceOption

    func run() throws {
        try computeDevice.apply()
        let sampler = Sampler(temperature: temperature, topK: topK, topP: topP)
        if let problem = sampler.problem { throw ValidationError(problem) }
        guard maxTokens >= 0 else { throw ValidationError("--max-tokens must not be negative") }
        guard !prompt.isEmpty else { throw ValidationError("--prompt must not be empty: the model continues a text") }
        let (model, tokenizer) = try Self.load(checkpoint)
        let tokens = tokenizer.map { $0.encode(prompt) } ?? Array(prompt.utf8).map(Int.init)
        guard !tokens.isEmpty else { throw ValidationError("--prompt encodes to no tokens; give some text") }
        let out = FileHandle.standardOutput
        out.write(Data(prompt.utf8))
        var rng = RandomGenerator(seed: seed)
        let start = Date()
        var firstToken: Date?
        // With a tokenizer, the text of prompt + tokens so far is decoded again and its new bytes written (a token's
        // bytes can depend on its neighbours: spaces put back, bytes joined into characters).
        var all = tokens, written = try tokenizer.map { try $0.decode(tokens).count } ?? 0
        let generated = try model.generate(prompt: tokens, maxTokens: maxTokens, sampler: sampler, generator: &rng) { token in
            if firstToken == nil { firstToken = Date() }
            guard let tokenizer else {
                out.write(Data([UInt8(token)]))
                return true
            }
            all.append(token)
            let text = (try? tokenizer.decode(all)) ?? []
            if text.count > written { out.write(Data(text[written...])) }
            written = max(written, text.count)
            return true
        }
        out.write(Data("\n".utf8))
        let end = Date()
        let prefill = (firstToken ?? end).timeIntervalSince(start)
        let perToken = generated.count > 1 ? end.timeIntervalSince(firstToken!) / Double(generated.count - 1) : 0
        let unit = tokenizer == nil ? "bytes" : "tokens"
        FileHandle.standardError.write(Data(String(format: "prompt: %d %@ in %.2f s; generated %d %@ at %.1f %@/s\n",
            tokens.count, unit, prefill, generated.count, unit, perToken > 0 ? 1 / perToken : 0, unit).utf8))
    }

    /// The model saved in a checkpoint (any checkpoint with a model configuration; optimiser state is ignored), and
    /// the tokenizer it was trained with (none for bytes).
    static func load(_ path: String) throws -> (LanguageModel, Tokenizer?) {
        let checkpoint = try loadCheckpoint(path)
        let config = try checkpoint.modelConfiguration(file: path)
        var tokenizer: Tokenizer? = nil
        if let json = checkpoint.metadata["tokenizer"] {
            tokenizer = try Tokenizer(json: Data(json.utf8), name: checkpoint.metadata["tokenizer_name"] ?? "tokenizer",
                                      path: path + " (its tokenizer)")
        }
        guard config.vocabularySize == (tokenizer?.vocabularySize ?? 256) else {
            throw CommandError("\(path) holds a model over \(config.vocabularySize) tokens but "
                               + (tokenizer.map { "a tokenizer of \($0.vocabularySize)" } ?? "no tokenizer (bytes are 256)")
                               + "; it was not written by `titans train`")
        }
        var rng = RandomGenerator(seed: 0)
        let model = LanguageModel(config, generator: &rng)
        try checkpoint.restore(into: model.namedParameters(), optimizer: nil, expectedConfig: nil)
        return (model, tokenizer)
    }
}
