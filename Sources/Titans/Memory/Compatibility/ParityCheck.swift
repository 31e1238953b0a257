import Foundation
import TitansNN

/// Runs a titans-pytorch parity fixture (format: `tools/parity/README.md` §2) through ``TitansPyTorchMemory``:
/// rebuilds the module from the fixture's config and weights, runs forward and backward with the fixture's loss,
/// and measures how far our output and gradients are from titans-pytorch's.
///
/// ```swift
/// let check = try ParityCheck.run(URL(fileURLWithPath: "Tests/TitansTests/Fixtures/parity/defaults_d16_n12.safetensors"))
/// print(check.passed, check.worstOutput)
/// ```
public struct ParityCheck {
    /// One compared tensor: `max |ours − theirs| / max |theirs|`.
    ///
    /// ```swift
    /// for comparison in check.comparisons where !comparison.passed { print(comparison.name, comparison.relativeError) }
    /// ```
    public struct Comparison: Sendable {
        public let name: String
        public let relativeError: Double
        public let tolerance: Double
        public var passed: Bool { relativeError <= tolerance }
    }

    public let fixture: String
    public let comparisons: [Comparison]
    public var passed: Bool { comparisons.allSatisfy(\.passed) }
    public var worstOutput: Double { comparisons.filter { !$0.name.hasPrefix("grad.") }.map(\.relativeError).max() ?? 0 }
    public var worstGradient: Double { comparisons.filter { $0.name.hasPrefix("grad.") }.map(\.relativeError).max() ?? 0 }

    /// Output tolerance 1e-4 and gradient tolerance 1e-3, relative to the largest magnitude of the reference tensor.
    public static let outputTolerance = 1e-4, gradientTolerance = 1e-3

    /// Reads and runs one fixture. Throws a `SafetensorsError` or a configuration error the user can act on.
    public static func run(_ url: URL) throws -> ParityCheck {
        let file = try SafetensorsFile.read(from: url)
        guard let json = file.metadata["config"] else {
            throw TitansPyTorchConfiguration.Unsupported(description: "\(url.lastPathComponent) has no \"config\" metadata; is it a parity fixture?")
        }
        let config = try TitansPyTorchConfiguration(titansPyTorchJSON: json)
        var rng = RandomGenerator(seed: 0)
        let memory = TitansPyTorchMemory(config, generator: &rng)
        let parameters = memory.titansPyTorchParameters()
        for p in parameters {
            let theirs = try file.tensor(named: "param." + p.name)
            let ours = p.layout.toOurs(theirs)
            guard ours.shape == p.tensor.shape else {
                throw TitansPyTorchConfiguration.Unsupported(description:
                    "\(url.lastPathComponent): param.\(p.name) has shape \(theirs.shape), which does not fit this configuration")
            }
            p.tensor.assign(ours)
        }
        let input = try file.tensor(named: "input").requiringGrad()
        let output = memory(input)
        let lossWeight = try file.tensor(named: "loss_weight")
        let names = parameters.map(\.name)
        let grads = Tensor.gradients(of: (output * lossWeight).sum(), withRespectTo: [input] + parameters.map(\.tensor))
        func compare(_ name: String, _ ours: Tensor, tolerance: Double) throws -> Comparison {
            let theirs = try file.tensor(named: name).toArray(), mine = ours.toArray()
            let scale = theirs.map { Swift.abs($0) }.max() ?? 0
            let difference = zip(mine, theirs).map { Swift.abs($0 - $1) }.max() ?? 0
            let relative = mine.count != theirs.count ? .infinity : (scale > 0 ? difference / scale : difference)
            return Comparison(name: name, relativeError: relative, tolerance: tolerance)
        }
        var comparisons = [try compare("output", output, tolerance: outputTolerance),
                           try compare("grad.input", grads[0], tolerance: gradientTolerance)]
        for (i, p) in parameters.enumerated() {
            comparisons.append(try compare("grad." + names[i], p.layout.toTheirs(grads[i + 1]), tolerance: gradientTolerance))
        }
        return ParityCheck(fixture: url.lastPathComponent, comparisons: comparisons)
    }
}
