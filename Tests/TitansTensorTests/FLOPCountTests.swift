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
