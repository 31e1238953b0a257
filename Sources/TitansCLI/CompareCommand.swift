import ArgumentParser
import Foundation
import TitansTraining

/// `titans compare A B`: how far apart two checkpoints' parameters and optimiser states are, for checking that two
/// runs (one process and several ranks, or a resumed run and a straight one) trained the same model.
struct CompareCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "Compare two checkpoints tensor by tensor (exits non-zero when they differ by more than --tolerance).",
        discussion: "A tensor's difference is its largest elementwise difference relative to the largest magnitude in the "
            + "first checkpoint's tensor. The default tolerance 0 asks for identical values."
    )

    @Argument(help: "The reference checkpoint.") var first: String
    @Argument(help: "The checkpoint compared with it.") var second: String
    @Option(help: "Largest relative difference allowed per tensor (default 0: identical).") var tolerance: Double = 0

    func run() throws {
        guard tolerance >= 0 else { throw ValidationError("--tolerance must be 0 or more") }
        let (a, b) = (try loadCheckpoint(first), try loadCheckpoint(second))
        var differs = false
        if a.step != b.step {
            print("steps differ: \(a.step) and \(b.step)")
            differs = true
        }
        for (kind, x, y) in [("parameters", a.parameters, b.parameters), ("optimiser state", a.optimizerState, b.optimizerState)] {
            let (worst, problems) = Self.compare(x, y)
            for problem in problems { print("\(kind): \(problem)") }
            differs = differs || !problems.isEmpty
            guard let worst else {
                if x.isEmpty { print("\(kind): none") }
                continue
            }
            let over = worst.difference > tolerance
            print(String(format: "%@: %d tensors, largest relative difference %.3g (%@)%@", kind, x.count, worst.difference,
                         worst.name, over ? String(format: "  > %.3g", tolerance) : ""))
            differs = differs || over
        }
        print(differs ? "differ" : (tolerance == 0 ? "identical" : "equal within \(tolerance)"))
        if differs { throw ExitCode.failure }
    }

    /// The tensor of `x` that differs most from its namesake in `y`, and what does not match (names, shapes).
    static func compare(_ x: [(name: String, tensor: Tensor)], _ y: [(name: String, tensor: Tensor)])
        -> (worst: (name: String, difference: Double)?, problems: [String]) {
        let others = Dictionary(y.map { ($0.name, $0.tensor) }, uniquingKeysWith: { first, _ in first })
        var problems = Set(y.map(\.name)).subtracting(x.map(\.name)).sorted().map { "\($0) only in the second" }
        var worst: (name: String, difference: Double)? = nil
        for (name, tensor) in x {
            guard let other = others[name] else {
                problems.append("\(name) only in the first")
                continue
            }
            guard other.shape == tensor.shape else {
                problems.append("\(name) has shape \(tensor.shape) and \(other.shape)")
                continue
            }
            let (u, v) = (tensor.toArray(), other.toArray())
            let scale = u.map(abs).max() ?? 0
            // Equal elements (infinities included) differ by 0; a NaN against anything differs infinitely.
            let largest = zip(u, v).reduce(0.0) { d, pair in
                pair.0 == pair.1 ? d : max(d, abs(pair.0 - pair.1).isNaN ? .infinity : abs(pair.0 - pair.1))
            }
            let difference = scale > 0 && scale.isFinite ? largest / scale : largest
            if difference >= (worst?.difference ?? -1) { worst = (name, difference) }
        }
        return (worst, problems)
    }
}
