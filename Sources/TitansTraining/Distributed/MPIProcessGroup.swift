import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The processes an MPI launcher (`mpirun`, `mpiexec`, `srun`) started, reached through Open MPI's library, loaded at
/// run time (`dlopen`, as the BLAS is): the package builds and runs without MPI, and only a process started by a
/// launcher looks for it. Open MPI's handles (`MPI_COMM_WORLD`, `MPI_FLOAT`, `MPI_SUM`) are the addresses of objects
/// the library exports (`ompi_mpi_comm_world`, …), which is how they are found here.
///
/// Calls come from one thread (MPI initialised at `MPI_THREAD_SINGLE`); MPI's default error handler ends the job on
/// any communication failure, so a rank that dies stops the others instead of leaving them waiting.
///
/// ```swift
/// // mpirun -np 2 app: every rank runs the same code
/// let group = try MPIProcessGroup.fromEnvironment()
/// print("rank \(group.rank) of \(group.size)")
/// defer { group.finish() }
/// ```
public final class MPIProcessGroup: ProcessGroup {
    public let rank: Int
    public let size: Int
    /// Ranks started on this machine (the launcher says), so each can take its share of the cores.
    public let ranksOnThisMachine: Int
    private let mpi: Library

    /// The variables MPI launchers set in every process they start (Open MPI, PMIx as under `srun --mpi=pmix`, PMI).
    static let launcherVariables = ["OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_SIZE"]

    /// The launcher variable set in this process's environment, if any: the process was started by an MPI launcher.
    public static var launcher: String? {
        let environment = ProcessInfo.processInfo.environment
        return launcherVariables.first { environment[$0] != nil }
    }

    /// The group this process belongs to: the MPI job's when an MPI launcher started it, otherwise a ``SingleProcess``.
    /// A process started by a launcher whose MPI library cannot be loaded gets an error that says what to install.
    public static func fromEnvironment() throws -> any ProcessGroup {
        guard let variable = launcher else { return SingleProcess() }
        return try MPIProcessGroup(launchedBy: variable)
    }

    private init(launchedBy variable: String) throws {
        let requested = ProcessInfo.processInfo.environment["TITANS_MPI_LIBRARY"]
        let candidates = requested.map { [$0] } ?? ["libmpi.so.40", "libmpi.so"]
        guard let mpi = candidates.lazy.compactMap(Library.init(path:)).first else {
            throw DistributedError.noLibrary(variable: variable, tried: candidates)
        }
        self.mpi = mpi
        var initialised: Int32 = 0
        _ = mpi.initialized(&initialised)
        if initialised == 0 { try mpi.check(mpi.initialize(nil, nil), "MPI_Init") }
        var value: Int32 = 0
        try mpi.check(mpi.commRank(mpi.world, &value), "MPI_Comm_rank")
        rank = Int(value)
        try mpi.check(mpi.commSize(mpi.world, &value), "MPI_Comm_size")
        size = Int(value)
        let environment = ProcessInfo.processInfo.environment
        ranksOnThisMachine = ["OMPI_COMM_WORLD_LOCAL_SIZE", "SLURM_NTASKS_PER_NODE", "MPI_LOCALNRANKS"]
            .lazy.compactMap { environment[$0].flatMap { Int($0) } }.first ?? 1
    }

    public func sum(_ values: inout [Float]) { sum(&values, type: mpi.float) }
    public func sum(_ values: inout [Double]) { sum(&values, type: mpi.double) }

    /// In place, in pieces of at most 2³⁰ elements (MPI counts are 32-bit).
    private func sum<T>(_ values: inout [T], type: UnsafeMutableRawPointer) {
        guard size > 1 else { return }
        let piece = 1 << 30
        values.withUnsafeMutableBufferPointer { buffer in
            guard let base = buffer.baseAddress else { return }
            for start in stride(from: 0, to: buffer.count, by: piece) {
                let status = mpi.allreduce(Library.inPlace, base + start, Int32(min(piece, buffer.count - start)), type,
                                           mpi.sumOperation, mpi.world)
                if status != 0 { fail("MPI_Allreduce returned \(status)") }
            }
        }
    }

    public func abort(code: Int32) -> Never {
        fflush(stdout)
        _ = mpi.abort(mpi.world, code)
        exit(code)  // MPI_Abort does not return; this only satisfies the type
    }

    public func finish() {
        fflush(stdout)
        _ = mpi.finalize()
    }

    /// A failed call with errors set to return (never with MPI's default handler): says so and ends the job.
    private func fail(_ what: String) -> Never {
        FileHandle.standardError.write(Data("titans (rank \(rank) of \(size)): \(what); stopping every rank\n".utf8))
        abort(code: 1)
    }

    /// The entry points and handles of Open MPI's library.
    private struct Library {
        typealias Initialize = @convention(c) (UnsafeMutableRawPointer?, UnsafeMutableRawPointer?) -> Int32
        typealias Initialized = @convention(c) (UnsafeMutablePointer<Int32>) -> Int32
        typealias CommunicatorQuery = @convention(c) (UnsafeMutableRawPointer, UnsafeMutablePointer<Int32>) -> Int32
        typealias Allreduce = @convention(c) (UnsafeRawPointer?, UnsafeMutableRawPointer?, Int32, UnsafeMutableRawPointer,
                                              UnsafeMutableRawPointer, UnsafeMutableRawPointer) -> Int32
        typealias Abort = @convention(c) (UnsafeMutableRawPointer, Int32) -> Int32
        typealias Finalize = @convention(c) () -> Int32

        /// Open MPI's `MPI_IN_PLACE`.
        static let inPlace = UnsafeRawPointer(bitPattern: 1)

        let initialize: Initialize
        let initialized: Initialized
        let commRank: CommunicatorQuery
        let commSize: CommunicatorQuery
        let allreduce: Allreduce
        let abort: Abort
        let finalize: Finalize
        let world: UnsafeMutableRawPointer
        let float: UnsafeMutableRawPointer
        let double: UnsafeMutableRawPointer
        let sumOperation: UnsafeMutableRawPointer

        /// Open MPI's library at `path`, or `nil` when it cannot be loaded or is not Open MPI's (MPICH's handles are
        /// integers, not exported objects). Loaded with global symbols, as Open MPI's plug-ins need.
        init?(path: String) {
            guard let handle = dlopen(path, RTLD_NOW | RTLD_GLOBAL) else { return nil }
            func function<F>(_ name: String, _ type: F.Type) -> F? { dlsym(handle, name).map { unsafeBitCast($0, to: type) } }
            guard let initialize = function("MPI_Init", Initialize.self),
                  let initialized = function("MPI_Initialized", Initialized.self),
                  let commRank = function("MPI_Comm_rank", CommunicatorQuery.self),
                  let commSize = function("MPI_Comm_size", CommunicatorQuery.self),
                  let allreduce = function("MPI_Allreduce", Allreduce.self),
                  let abort = function("MPI_Abort", Abort.self),
                  let finalize = function("MPI_Finalize", Finalize.self),
                  let world = dlsym(handle, "ompi_mpi_comm_world"), let float = dlsym(handle, "ompi_mpi_float"),
                  let double = dlsym(handle, "ompi_mpi_double"), let sumOperation = dlsym(handle, "ompi_mpi_op_sum")
            else { return nil }
            (self.initialize, self.initialized, self.commRank, self.commSize) = (initialize, initialized, commRank, commSize)
            (self.allreduce, self.abort, self.finalize) = (allreduce, abort, finalize)
            (self.world, self.float, self.double, self.sumOperation) = (world, float, double, sumOperation)
        }

        func check(_ status: Int32, _ call: String) throws {
            if status != 0 { throw DistributedError.callFailed(call: call, status: status) }
        }
    }
}

/// Why data-parallel training cannot start. Each message says what to do.
///
/// ```swift
/// do { try trainer.join(try MPIProcessGroup.fromEnvironment()) } catch let error as DistributedError { print(error) }   // says what to do
/// ```
public enum DistributedError: Error, CustomStringConvertible, Equatable {
    case noLibrary(variable: String, tried: [String])
    case callFailed(call: String, status: Int32)
    case batchNotDivisible(batchSize: Int, ranks: Int)
    case modelCannotSplit(ranks: Int)

    public var description: String {
        switch self {
        case let .noLibrary(variable, tried):
            return "this process was started by an MPI launcher (\(variable) is set) but Open MPI's library could not be "
                + "loaded (tried \(tried.joined(separator: ", "))). Install it (Debian/Ubuntu: apt-get install openmpi-bin), "
                + "or point TITANS_MPI_LIBRARY at libmpi.so.40; run without mpirun to train in one process"
        case let .callFailed(call, status):
            return "\(call) failed with status \(status); check that mpirun and the loaded libmpi are the same Open MPI"
        case let .batchNotDivisible(batchSize, ranks):
            return "--batch-size \(batchSize) cannot be shared by \(ranks) ranks: each rank takes an equal slice of every "
                + "batch, so the batch size must be a multiple of the number of ranks"
        case let .modelCannotSplit(ranks):
            return "this model's batches cannot be cut into \(ranks) slices, so it cannot train on \(ranks) ranks; run it in one process"
        }
    }
}
