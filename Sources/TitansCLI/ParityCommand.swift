import ArgumentParser
import Foundation
import Titans

/// `titans parity FIXTURE...`: compares TitansPyTorchMemory with titans-pytorch on committed fixtures.
struct ParityCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "parity",
        abstract: "Check the titans-pytorch preset against fixtures made by tools/parity (exits non-zero on a mismatch).",
        discussion: "Output must agree to 1e-4 and every gradient to 1e-3, relative to the largest magnitude of the "
            + "reference tensor. Fixtures: Tests/TitansTests/Fixtures/parity/*.safetensors."
    )

    @Argument(help: "Fixture files (.safetensors).") var fixtures: [String]
    @Flag(help: "Print every compared tensor, not only the worst of each kind.") var verbose = false

    func run() throws {
        var failures = 0
        for path in fixtures {
            let check: ParityCheck
            do {
                check = try ParityCheck.run(URL(fileURLWithPath: path))
            } catch {
                print("\(path): cannot check: \(error)")
                failures += 1
                continue
            }
            let verdict = check.passed ? "ok" : "MISMATCH"
            print("\(check.fixture): output \(format(check.worstOutput)), worst gradient \(format(check.worstGradient))  \(verdict)")
            for c in check.comparisons where verbose || !c.passed {
                print("    \(c.name): \(format(c.relativeError))\(c.passed ? "" : "  > \(c.tolerance)")")
            }
            if !check.passed { failures += 1 }
        }
        if failures > 0 {
            print("\(failures) of \(fixtures.count) fixtures failed")
            throw ExitCode.failure
        }
    }

    private func format(_ x: Double) -> String { String(format: "%.2e", x) }
}
