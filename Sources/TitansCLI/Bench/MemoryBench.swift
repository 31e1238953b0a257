import ArgumentParser
import Foundation
import TitansTraining

/// `titans bench memory`: throughput of one neural-memory layer and its resident memory while streaming.
struct MemoryBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "memory",
        abstract: "Neural-memory layer speed (forward, forward+backward) and peak memory while streaming a long sequence."
    )

    @Option(help: "Model width.") var width = 256
    @Option(help: "Heads (head width = width / heads).") var heads = 4
    @Option(help: "Depth of the memory MLP.") var depth = 2
    @Option(help: "Chunk size of the parallel form.") var chunk = 64
    @Option(help: "Sequence length for the throughput figures.") var sequence = 2048
    @Option(help: "Batch size for the throughput figures.") var batch = 2
    @Option(help: "Timed repetitions of each throughput figure (the best counts).") var repeats = 3
    @Option(help: "Tokens to stream for the memory figure (0 skips it).") var streamTokens = 1_000_000
    @Option(help: "Tokens per streamed piece.") var piece = 1024

    @OptionGroup var computeDevice: DeviceOption

    func run() throws {
        try computeDevice.apply()
        guard sequence >= 1, batch >= 1, repeats >= 1, piece >= 1, streamTokens >= 0 else {
            throw ValidationError("--sequence, --batch, --repeats and --piece must be positive; --stream-tokens 0 or more")
        }
        var rng = RandomGenerator(seed: 0)
        let config = NeuralMemoryConfiguration(width: width, heads: heads, memoryDepth: depth, chunkSize: chunk)
        if let problem = config.problem { throw ValidationError(problem) }
        let memory = NeuralMemory(config, generator: &rng)
        print("neural memory: width \(width), \(heads) heads of \(config.headWidth), depth \(depth), chunk \(chunk), "
              + "\(memory.parameterCount) parameters; matmul: \(BLAS.backendName)")
        // Streaming first, so its peak resident memory is not that of the throughput runs' graphs.
        if streamTokens > 0 {
            print("streaming \(streamTokens) tokens (batch 1, pieces of \(piece)) without gradients:")
            var state: NeuralMemoryState? = nil
            var done = 0
            let reports = [100_000, 200_000, 500_000, 1_000_000, 2_000_000, 5_000_000, 10_000_000]
            var nextReport = reports.first { $0 >= min(100_000, streamTokens) } ?? streamTokens
            let start = Date()
            while done < streamTokens {
                let n = min(piece, streamTokens - done)
                let input = Tensor.randomNormal([1, n, width], generator: &rng)
                state = withoutGradients { memory(input, state: state).1 }
                done += n
                if done >= nextReport || done == streamTokens {
                    let rate = Double(done) / Date().timeIntervalSince(start)
                    print("  \(done) tokens: peak resident memory \(String(format: "%.1f", peakResidentMegabytes())) MB, \(Int(rate)) tokens/s")
                    nextReport = reports.first { $0 > done } ?? Int.max
                }
            }
        }
        print("throughput, batch \(batch) × sequence \(sequence) (tokens/s):")
        print("  " + "layer".padding(toLength: 46, withPad: " ", startingAt: 0) + "forward   forward+backward")
        let x = Tensor.randomNormal([batch, sequence, width], generator: &rng)
        throughput("paper form (chunked, per-token reads)", x) { memory($0).0 }
        for commit in [nil, chunk] as [Int?] {
            let preset = TitansPyTorchMemory(TitansPyTorchConfiguration(width: width, heads: heads, headWidth: width / heads,
                                                                        chunkSize: chunk, commitSize: commit, memoryDepth: depth),
                                             generator: &rng)
            throughput("titans-pytorch preset, batch_size=\(commit.map(String.init) ?? "None")", x) { preset($0) }
        }
    }

    /// Prints forward and forward+backward tokens/s of `layer` on `x`.
    private func throughput(_ name: String, _ x: Tensor, _ layer: (Tensor) -> Tensor) {
        let tokens = Double(x.shape[0] * x.shape[1])
        let forward = fastestSeconds(repeats: repeats) { _ = withoutGradients { layer(x) } }
        let training = fastestSeconds(repeats: repeats) { layer(x).squared().mean().backward() }
        print("  " + name.padding(toLength: 46, withPad: " ", startingAt: 0)
              + String(Int(tokens / forward)).padding(toLength: 10, withPad: " ", startingAt: 0) + String(Int(tokens / training)))
    }
}
