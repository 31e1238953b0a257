import Foundation

/// The processes that train one model together by data parallelism: this process is `rank` of `size`. Every rank
/// holds the same parameters, computes the gradients of its own slice of each batch, and the group sums them, so
/// every rank takes the same optimiser step. ``SingleProcess`` is the group of one; ``MPIProcessGroup`` spans the
/// processes `mpirun` (or `srun`) started.
///
/// Every rank must make the same calls in the same order with the same counts (they are collective).
///
/// ```swift
/// let group = try MPIProcessGroup.fromEnvironment()   // SingleProcess() without a launcher
/// try trainer.join(group)
/// let total = group.sum([localLoss])[0]
/// ```
public protocol ProcessGroup: AnyObject {
    var rank: Int { get }
    var size: Int { get }
    /// Replaces `values` on every rank by their element-wise sum over the ranks.
    func sum(_ values: inout [Float])
    func sum(_ values: inout [Double])
    /// Ends every rank of the group at once with exit status `code` (after a failure only some ranks saw).
    func abort(code: Int32) -> Never
    /// Leaves the group cleanly (every rank, at the end of a run).
    func finish()
}

extension ProcessGroup {
    /// Whether this rank writes the run's files and progress (rank 0; the others compute only).
    public var isPrimary: Bool { rank == 0 }

    /// The element-wise sum over the ranks.
    public func sum(_ values: [Double]) -> [Double] {
        var values = values
        sum(&values)
        return values
    }

    /// Whether `flag` is true on any rank.
    public func any(_ flag: Bool) -> Bool { size == 1 ? flag : sum([flag ? 1 : 0])[0] > 0 }
}

/// A group of one process: sums are the values themselves.
///
/// ```swift
/// let group = SingleProcess()
/// print(group.sum([1.5])[0])   // 1.5: a group of one
/// ```
public final class SingleProcess: ProcessGroup {
    public init() {}
    public var rank: Int { 0 }
    public var size: Int { 1 }
    public func sum(_ values: inout [Float]) {}
    public func sum(_ values: inout [Double]) {}
    public func abort(code: Int32) -> Never { exit(code) }
    public func finish() {}
}
