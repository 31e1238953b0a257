import Testing
import Titans

/// The README's NeuralMemory example, at a smaller size so it runs quickly in a debug build.
struct ReadmeMemoryExampleTests {
    @Test func runsAsWritten() {
        var rng = RandomGenerator(seed: 0)
        let memory = NeuralMemory(NeuralMemoryConfiguration(width: 32, heads: 4, memoryDepth: 2, chunkSize: 8), generator: &rng)
        let x = Tensor.randomNormal([2, 40, 32], generator: &rng)
        let (y, state) = memory(x)
        let (more, _) = withoutGradients { memory(x, state: state.detached()) }
        #expect(y.shape == [2, 40, 32] && more.shape == [2, 40, 32])
        #expect(y.requiresGrad && !more.requiresGrad)
        #expect(state.tokensInChunk == 0)
    }
}
