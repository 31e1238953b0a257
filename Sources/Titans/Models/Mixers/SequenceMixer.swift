import TitansNN

/// What a sequence mixer carries from one call to the next (attention caches, the memory's cursor). Its size is what
/// streaming and generation keep.
///
/// ```swift
/// let (logits, state) = model(prompt)   // state holds each block's MixerState: its cache or memory
/// let (next, _) = model(IndexTensor(shape: [1, 1], [10]), state: state)
/// ```
public protocol MixerState {
    /// How many numbers the state holds.
    var storedElementCount: Int { get }
}

/// The sequence-mixing half of a block (paper §4): it reads the block's input `x` `[batch, time, width]` (normalising it
/// itself) and returns what the block adds to `x`, carrying its own state between calls so that feeding a sequence in
/// pieces gives the outputs of one call. Each architecture is one mixer in one file of this folder, registered in
/// `Architecture.swift`.
///
/// ```swift
/// func run<M: SequenceMixer>(_ mixer: M, _ x: Tensor) -> Tensor { mixer(x, state: nil).0 }
/// ```
public protocol SequenceMixer: Module {
    associatedtype State: MixerState
    func callAsFunction(_ x: Tensor, state: State?) -> (Tensor, State)
}

extension SequenceMixer {
    /// Runs the mixer on a state of any type: the state this mixer returned last time, or `nil` for a new sequence.
    func mix(_ x: Tensor, state: (any MixerState)?) -> (Tensor, any MixerState) {
        let typed = state as? State
        precondition(state == nil || typed != nil, "\(Self.self): given the state of another mixer")
        return self(x, state: typed)
    }
}

/// Persistent memory (paper §3.3, Eq. 19): learnable, input-independent tokens `[count, width]` that the Titans
/// mixers prepend (MAC and MAG show them to attention; LMM, MAL and MAG write them into the memory first).
enum PersistentMemory {
    /// `count` tokens drawn small, or `nil` when `count` is 0.
    static func tokens(_ count: Int, width: Int, dtype: DType, generator: inout RandomGenerator) -> Tensor? {
        count > 0 ? Tensor.randomNormal([count, width], standardDeviation: 0.02, dtype: dtype, generator: &generator).requiringGrad() : nil
    }
}

/// The state of a neural memory that writes the persistent tokens once, at the start of a sequence.
///
/// ```swift
/// let lmm = MemoryOnly(.standard(.lmm), dtype: .float32, generator: &rng)
/// let (y, state) = lmm(x, state: nil)   // state: a PrefixedMemoryState
/// ```
public struct PrefixedMemoryState: MixerState {
    var memory: NeuralMemoryState?
}

/// The state of a mixer with an attention layer and a memory (MAG, MAL).
///
/// ```swift
/// let (y, state) = mag(x, state: nil)   // MAG's and MAL's state: the attention cache and the memory
/// let (more, _) = mag(next, state: state)
/// ```
public struct HybridState: MixerState {
    var attention: AttentionCache
    var memory: PrefixedMemoryState
}

extension NeuralMemory {
    /// The memory over `x`, with `persistent` written first at the start of a sequence (Eqs. 26, 29); returns the reads
    /// of `x`'s tokens.
    func withPrefix(_ persistent: Tensor?, _ x: Tensor, state: PrefixedMemoryState?) -> (Tensor, PrefixedMemoryState) {
        let prefix = state == nil ? persistent : nil
        let input = prefix.map { Tensor.concatenate([$0.unsqueeze(0).expand(to: [x.shape[0]] + $0.shape), x], axis: 1) } ?? x
        let (y, next) = self(input, state: state?.memory)
        let reads = prefix.map { y.slice(axis: 1, start: $0.shape[0], end: y.shape[1]) } ?? y
        return (reads, PrefixedMemoryState(memory: next))
    }
}
