import TitansNN

/// LMM (paper §4.4, §5): the neural memory alone over [persistent ‖ x].
///
/// ```swift
/// let lmm = MemoryOnly(.standard(.lmm), dtype: .float32, generator: &rng)
/// let (y, state) = lmm(x, state: nil)
/// ```
public final class MemoryOnly: Module, SequenceMixer {
    public let mixerNorm: RMSNorm
    public let memory: NeuralMemory
    public let persistent: Tensor?

    public init(_ c: ModelConfiguration, dtype: DType, generator: inout RandomGenerator) {
        mixerNorm = RMSNorm(c.width, dtype: dtype)
        memory = NeuralMemory(c.memory, dtype: dtype, generator: &generator)
        persistent = PersistentMemory.tokens(c.persistentTokens, width: c.width, dtype: dtype, generator: &generator)
    }

    public func callAsFunction(_ x: Tensor, state: PrefixedMemoryState?) -> (Tensor, PrefixedMemoryState) {
        memory.withPrefix(persistent, mixerNorm(x), state: state)
    }
}
