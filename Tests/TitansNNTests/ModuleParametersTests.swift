import Testing
@testable import TitansNN

/// A module's parameters are its tensors, lists of tensors and those of its child modules, in declaration order; arrays
/// of numbers beside them (fixed tables, sizes) are not parameters.
struct ModuleParametersTests {
    final class Mixed: Module {
        let weight = Tensor(shape: [2], [1, 2]).requiringGrad()
        let table: [Double] = Array(repeating: 0.5, count: 100)
        let sizes: [Int] = [3, 4]
        let scales: [Float] = [1, 2]
        let list = [Tensor(shape: [1], [3]).requiringGrad(), Tensor(shape: [1], [4]).requiringGrad()]
        let child: TinyLayer

        override init() {
            var generator = RandomGenerator(seed: 1)
            child = TinyLayer(inputs: 2, outputs: 1, dtype: .float32, generator: &generator)
        }
    }

    @Test func numbersAreNotParameters() {
        let names = Mixed().namedParameters().map(\.0)
        #expect(names == ["weight", "list.0", "list.1", "child.weight", "child.bias"])
    }
}
