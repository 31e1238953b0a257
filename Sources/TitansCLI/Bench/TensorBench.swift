import ArgumentParser
import Foundation
import TitansTensor

/// `titans bench tensor`: matmul GFLOP/s, elementwise GB/s and small-op latency of the tensor engine.
struct TensorBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tensor",
        abstract: "Tensor engine speed: sgemm GFLOP/s (ours vs the BLAS it calls), add/exp GB/s, small-op latency."
    )

    @Option(help: "Minimum seconds spent timing each figure.")
    var seconds: Double = 0.5

    @Flag(help: "Also time the built-in matmul kernel used when no BLAS library is found.")
    var builtin = false

    @OptionGroup var computeDevice: DeviceOption

    func run() throws {
        try computeDevice.apply()
        guard seconds > 0 && seconds.isFinite else { throw ValidationError("--seconds must be a positive number") }
        print("matmul backend: \(BLAS.backendName), threads: \(ProcessInfo.processInfo.activeProcessorCount)")
        print("")
        print("sgemm (float32, C = A·B, n×n·n×n)")
        print(pad("n", 6) + pad("tensor GFLOP/s", 16) + pad("BLAS GFLOP/s", 14) + pad("ratio", 8) + (builtin ? pad("built-in GFLOP/s", 18) : ""))
        for n in [256, 512, 1024, 2048] {
            var rng = RandomGenerator(seed: 1)
            let a = Tensor.randomNormal([n, n], generator: &rng), b = Tensor.randomNormal([n, n], generator: &rng)
            let flops = 2 * Double(n) * Double(n) * Double(n)
            let c = Tensor.zeros([n, n])
            let (ours, raw) = timeAlternating({ _ = a.matmul(b) }, { rawGEMM(a, b, c, builtin: false) })
            var line = pad("\(n)", 6) + pad(fmt(flops / ours / 1e9), 16) + pad(fmt(flops / raw / 1e9), 14) + pad(fmt(raw / ours), 8)
            if builtin { line += pad(fmt(flops / time { rawGEMM(a, b, c, builtin: true) } / 1e9), 18) }
            print(line)
        }
        print("")
        print("elementwise (float32; GB/s counts bytes read and written)")
        print(pad("op", 6) + pad("elements", 12) + pad("GB/s", 10) + pad("ns/element", 12))
        for count in [1_000_000, 10_000_000] {
            var rng = RandomGenerator(seed: 2)
            let x = Tensor.randomNormal([count], generator: &rng), y = Tensor.randomNormal([count], generator: &rng)
            let add = time { _ = x + y }
            let exp = time { _ = x.exp() }
            print(pad("add", 6) + pad("\(count)", 12) + pad(fmt(12 * Double(count) / add / 1e9), 10) + pad(fmt(add / Double(count) * 1e9), 12))
            print(pad("exp", 6) + pad("\(count)", 12) + pad(fmt(8 * Double(count) / exp / 1e9), 10) + pad(fmt(exp / Double(count) * 1e9), 12))
        }
        print("")
        var rng = RandomGenerator(seed: 3)
        let small = Tensor.randomNormal([64, 64], generator: &rng), other = Tensor.randomNormal([64, 64], generator: &rng)
        let latency = time { _ = small + other }
        let tracked = small.detach().requiringGrad()
        let recorded = time { _ = tracked + other }
        let smallMatmul = time { _ = small.matmul(other) }
        print("small ops (64×64, float32)")
        print("  add:                       \(fmt(latency * 1e6)) µs")
        print("  add, recording gradients:  \(fmt(recorded * 1e6)) µs")
        print("  matmul:                    \(fmt(smallMatmul * 1e6)) µs")
    }

    /// Seconds per call of `body`: the best of several rounds, each at least a fifth of `budget` long.
    private func time(_ body: () -> Void, budget: Double? = nil) -> Double {
        let budget = budget ?? seconds
        body()
        var best = Double.infinity
        let start = Date()
        repeat {
            var calls = 0
            let round = Date()
            repeat {
                body()
                calls += 1
            } while Date().timeIntervalSince(round) < budget / 5
            best = min(best, Date().timeIntervalSince(round) / Double(calls))
        } while Date().timeIntervalSince(start) < budget
        return best
    }

    /// Seconds per call of `first` and of `second`, timed in alternating rounds so that both see the same
    /// machine load; the best round of each counts.
    private func timeAlternating(_ first: () -> Void, _ second: () -> Void) -> (Double, Double) {
        var best = (Double.infinity, Double.infinity)
        let start = Date()
        repeat {
            best.0 = min(best.0, time(first, budget: seconds / 10))
            best.1 = min(best.1, time(second, budget: seconds / 10))
        } while Date().timeIntervalSince(start) < 2 * seconds
        return best
    }

    private func pad(_ s: String, _ width: Int) -> String { s.padding(toLength: max(width, s.count + 1), withPad: " ", startingAt: 0) }
    private func fmt(_ x: Double) -> String { String(format: x >= 100 ? "%.0f" : (x >= 10 ? "%.1f" : "%.2f"), x) }
}

/// `C = A·B` for square float32 matrices through `BLAS.gemm` directly (the library, or the built-in kernel).
func rawGEMM(_ a: Tensor, _ b: Tensor, _ c: Tensor, builtin: Bool = false) {
    let n = a.shape[0]
    a.withUnsafeFloatPointer { pa in
        b.withUnsafeFloatPointer { pb in
            c.withUnsafeMutableFloatPointer { pc in
                BLAS.gemm(transA: false, transB: false, m: n, n: n, k: n, alpha: Float(1), a: pa, lda: n, b: pb, ldb: n,
                          beta: 0, c: pc, ldc: n, forceBuiltin: builtin)
            }
        }
    }
}
