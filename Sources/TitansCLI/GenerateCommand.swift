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

    func run() throws {
        let sampler = Sampler(temperature: temperature, topK: topK, topP: topP)
        if let problem = sampler.problem { throw ValidationError(problem) }
        guard maxTokens >= 0 else { throw ValidationError("--max-tokens must not be negative") }
        guard !prompt.isEmpty else { throw ValidationError("--prompt must not be empty: the model continues a text") }
        let model = try Self.load(checkpoint)
        let tokens = Array(prompt.utf8).map(Int.init)
        let out = FileHandle.standardOutput
        out.write(Data(prompt.utf8))
        var rng = RandomGenerator(seed: seed)
        let start = Date()
        var firstToken: Date?
        let generated = try model.generate(prompt: tokens, maxTokens: maxTokens, sampler: sampler, generator: &rng) { token in
            if firstToken == nil { firstToken = Date() }
            out.write(Data([UInt8(token)]))
            return true
        }
        out.write(Data("\n".utf8))
        let end = Date()
        let prefill = (firstToken ?? end).timeIntervalSince(start)
        let perToken = generated.count > 1 ? end.timeIntervalSince(firstToken!) / Double(generated.count - 1) : 0
        FileHandle.standardError.write(Data(String(format: "prompt: %d bytes in %.2f s; generated %d bytes at %.1f bytes/s\n",
            tokens.count, prefill, generated.count, perToken > 0 ? 1 / perToken : 0).utf8))
    }

    /// The model saved in a checkpoint (any checkpoint with a model configuration; optimiser state is ignored).
    static func load(_ path: String) throws -> LanguageModel {
        let checkpoint = try loadCheckpoint(path)
        let config = try checkpoint.modelConfiguration(file: path)
        guard config.vocabularySize == 256 else {
            throw CommandError("\(path) holds a model over \(config.vocabularySize) tokens; `titans generate` works on bytes (256)")
        }
        var rng = RandomGenerator(seed: 0)
        let model = LanguageModel(config, generator: &rng)
        try checkpoint.restore(into: model.namedParameters(), optimizer: nil, expectedConfig: nil)
        return model
    }
}
