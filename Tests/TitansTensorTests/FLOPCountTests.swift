import Testing
@testable import TitansTensor

/// Matrix-product FLOPs, forward and backward, as model-FLOPs utilisation counts them.
struct FLOPCountTests {
    @Test func countsTwoMNKPerProductOfABatch() {
        var rng = RandomGenerator(seed: 1)
        let a = Tensor.randomNormal([2, 3, 4], generator: &rng).requiringGrad()
        let w = Tensor.randomNormal([4, 5], generator: &rng).requiringGrad()
        var out: Tensor?
        let forward = FLOPCount.counting { out = a.matmul(w) }
        #expect(forward == 2 * (2 * 3) * 5 * 4)
        // Backward: dA = G Wᵀ (2·6·4·5) and dW = Aᵀ G as one product over the batch rows (2·4·5·6).
        let backward = FLOPCount.counting { out?.sum().backward() }
        #expect(backward == 2 * 6 * 4 * 5 + 2 * 4 * 5 * 6)
        #expect(FLOPCount.counting { _ = a.exp() } == 0)
        // Nested counts add to the enclosing one.
        var inner = 0
        let outer = FLOPCount.counting {
            _ = a.matmul(w)
            inner = FLOPCount.counting { _ = a.matmul(w) }
        }
        #expect(inner == forward && outer == 2 * forward)
    }
}

/// Work run in shards (one per core) keeps the caller's settings: gradient recording and FLOP counting.
struct ParallelShardsTests {
    @Test func shardsKeepRecordingAndCountingAndOrder() {
        let a = Tensor.ones([8, 8]).requiringGrad()
        let recorded = Parallel.shards(3) { _ in a.matmul(a).requiresGrad }
        #expect(recorded == [true, true, true])
        let unrecorded = withoutGradients { Parallel.shards(3) { _ in a.matmul(a).requiresGrad } }
        #expect(unrecorded == [false, false, false])
        let flops = FLOPCount.counting { _ = Parallel.shards(4) { _ in a.matmul(a) } }
        #expect(flops == 4 * 2 * 8 * 8 * 8)
        #expect(Parallel.shards(5) { $0 * $0 } == [0, 1, 4, 9, 16])
        #expect(Parallel.shards(2) { _ in Parallel.availableThreads } == [1, 1])
    }
}
