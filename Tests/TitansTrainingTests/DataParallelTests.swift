import Foundation
import Testing
@testable import TitansTraining

/// Data-parallel training without MPI: ranks are threads of this process joined by ``ThreadGroup``, whose sums add the
/// ranks' values in rank order, as a reduction of two ranks does. `scripts/distributed` checks the same under `mpirun`.
struct DataParallelTests {
    /// Two ranks, each with its slice of the batch, sum to the loss and gradients of one process cutting the batch into
    /// the same two parts: the same values, bit for bit.
    @Test(arguments: [false, true])
    func ranksSumToTheWholeBatch(weighted: Bool) throws {
        let weights = weighted ? (0..<48).map { Double($0 % 3) } : nil  // unequal shares when weighted
        let batch = ShardedGradientsTests.batch(rows: 4, length: 12, weights: weights)
        let single = TrainerTests.model(.mag)
        let (expectedLoss, expected) = ShardedGradientsTests.gradients(single) { single.accumulateGradients(on: batch, scale: 1, parts: 2) }
        let ranks = try ThreadGroup.run(2) { group -> (Double, [[Double]?]) in
            let model = TrainerTests.model(.mag)
            let share = try #require(model.share(of: batch, in: group))
            let local = model.accumulateGradients(on: share.batch, scale: share.weight, parts: 1)
            let loss = sumOverRanks(gradientsOf: model.parameters(), loss: share.weight * local, in: group)
            return (loss, model.parameters().map { $0.grad?.toArray() })
        }
        for (loss, gradients) in ranks {
            #expect(loss == expectedLoss)
            #expect(gradients.count == expected.count)
            let same = zip(gradients, expected).map { $0 == $1?.toArray() }
            #expect(!same.contains(false), "gradients of parameters \(same.indices.filter { !same[$0] }) differ")
        }
    }

    /// Trainers joined in a group of two take the steps one process takes (the same losses and gradient norms, to the
    /// rounding of a different grouping of the batch's rows), validate alike, and keep identical parameters.
    @Test func trainersInAGroupMatchOneProcess() throws {
        let configuration = TrainingConfiguration(steps: 3, batchSize: 4, sequenceLength: 16, learningRate: 3e-3, warmupSteps: 1,
                                                  accumulation: 2, seed: 9, evaluationInterval: 5, evaluationBatches: 2)
        let single = Trainer(model: TrainerTests.model(.mac), source: try TrainerTests.dataset(), configuration: configuration)
        let expected = try (0..<3).map { _ in try single.trainStep() }
        let expectedValidation = try #require(single.validationLoss())
        let ranks = try ThreadGroup.run(2) { group -> ([StepReport], Double?, [[Double]]) in
            let trainer = Trainer(model: TrainerTests.model(.mac), source: try TrainerTests.dataset(), configuration: configuration)
            try trainer.join(group)
            let reports = try (0..<3).map { _ in try trainer.trainStep() }
            return (reports, trainer.validationLoss(), trainer.model.parameters().map { $0.toArray() })
        }
        for (reports, validation, _) in ranks {
            for (r, e) in zip(reports, expected) {
                #expect(abs(r.loss - e.loss) <= 1e-5 * e.loss)
                #expect(abs(r.gradientNorm - e.gradientNorm) <= 1e-4 * e.gradientNorm)
                #expect(r.tokens == e.tokens)
            }
            #expect(abs(try #require(validation) - expectedValidation) <= 1e-5 * expectedValidation)
        }
        let same = zip(ranks[0].2, ranks[1].2).map { $0 == $1 }
        #expect(!same.contains(false), "the ranks' parameters \(same.indices.filter { !same[$0] }) differ")
    }

    /// A loss that is not finite on one rank stops every rank at the same step, before any parameter changes.
    @Test func aNonFiniteLossOnOneRankStopsEveryRank() throws {
        let outcomes = try ThreadGroup.run(2) { group -> (threw: Bool, unchanged: Bool, step: Int) in
            let trainer = Trainer(model: TrainerTests.model(.lmm), source: try TrainerTests.dataset(),
                                  configuration: TrainerTests.configuration())
            try trainer.join(group)
            if group.rank == 1 {
                let parameter = trainer.model.parameters()[3]
                withoutGradients { parameter.assign(parameter * .nan) }
            }
            let before = trainer.model.parameters().map { $0.toArray() }
            var threw = false
            do { try trainer.trainStep() } catch is TrainingError { threw = true }
            let after = trainer.model.parameters().map { $0.toArray() }
            return (threw, zip(before, after).allSatisfy { $0.elementsEqual($1) { $0 == $1 || ($0.isNaN && $1.isNaN) } }, trainer.step)
        }
        for outcome in outcomes {
            #expect(outcome.threw && outcome.unchanged && outcome.step == 0)
        }
    }

    /// A batch the ranks cannot share equally is refused before training starts.
    @Test func aBatchTheRanksCannotShareIsRefused() throws {
        var configuration = TrainerTests.configuration()
        configuration.batchSize = 3
        let trainer = Trainer(model: TrainerTests.model(), source: try TrainerTests.dataset(), configuration: configuration)
        #expect(throws: DistributedError.batchNotDivisible(batchSize: 3, ranks: 2)) { try trainer.join(ThreadGroup(rank: 0, sums: .init(size: 2))) }
        #expect(trainer.group.size == 1)
    }
}

/// A ``ProcessGroup`` of threads in this process: every rank runs `body` on its own thread, and a sum waits for all
/// ranks, then adds their values in rank order.
final class ThreadGroup: ProcessGroup, @unchecked Sendable {
    let rank: Int
    let sums: SharedSums
    var size: Int { sums.size }

    init(rank: Int, sums: SharedSums) {
        self.rank = rank
        self.sums = sums
    }

    func sum(_ values: inout [Float]) { values = sums.floats.sum(rank: rank, values) }
    func sum(_ values: inout [Double]) { values = sums.doubles.sum(rank: rank, values) }
    func abort(code: Int32) -> Never { fatalError("ThreadGroup: rank \(rank) aborted with code \(code)") }
    func finish() {}

    /// Each rank's result of `body`, run on `size` threads at once; rethrows the first rank's error.
    static func run<R>(_ size: Int, _ body: @escaping (ThreadGroup) throws -> R) throws -> [R] {
        let sums = SharedSums(size: size)
        let results = Results<R>(count: size)
        let done = DispatchGroup()
        for rank in 0..<size {
            done.enter()
            let thread = Thread {
                results.set(rank, Result { try body(ThreadGroup(rank: rank, sums: sums)) })
                done.leave()
            }
            thread.stackSize = 16 << 20
            thread.start()
        }
        done.wait()
        return try results.values.map { try $0!.get() }
    }

    final class Results<R>: @unchecked Sendable {
        private let lock = NSLock()
        private(set) var values: [Result<R, Error>?]
        init(count: Int) { values = Array(repeating: nil, count: count) }
        func set(_ i: Int, _ value: Result<R, Error>) { lock.withLock { values[i] = value } }
    }

    /// The meeting point of the ranks' sums, one per element type.
    final class SharedSums: @unchecked Sendable {
        let size: Int
        let floats: Meeting<Float>
        let doubles: Meeting<Double>
        init(size: Int) {
            self.size = size
            (floats, doubles) = (Meeting(size: size), Meeting(size: size))
        }
    }

    /// Every rank leaves a contribution; the last to arrive adds them in rank order and wakes the others.
    final class Meeting<T: AdditiveArithmetic>: @unchecked Sendable {
        private let size: Int
        private let condition = NSCondition()
        private var contributions: [[T]]
        private var result: [T] = []
        private var arrived = 0, round = 0

        init(size: Int) {
            self.size = size
            contributions = Array(repeating: [], count: size)
        }

        func sum(rank: Int, _ values: [T]) -> [T] {
            condition.lock()
            defer { condition.unlock() }
            let myRound = round
            contributions[rank] = values
            arrived += 1
            if arrived == size {
                result = contributions.dropFirst().reduce(contributions[0]) { zip($0, $1).map(+) }
                (arrived, round) = (0, round + 1)
                condition.broadcast()
            } else {
                while round == myRound { condition.wait() }
            }
            return result
        }
    }
}
