import ArgumentParser
import Foundation
import Titans

/// `titans selftest --device cuda`: every kernel, every op family (forward, first and second order), the memory's
/// forms and every architecture's training step, streaming and generation, on the GPU against the CPU, as a table.
struct SelfTestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "selftest",
        abstract: "Hold a GPU's computation to the CPU's, kernel by kernel, op by op and model by model (exits non-zero "
            + "on a failure, or when there is no GPU).",
        discussion: "Tolerances, relative to max(1, |value|): kernels 2e-5 (float32) and 1e-11 (float64); ops with "
            + "their gradients 1e-4 and 1e-9; models 1e-3 and 1e-9 (hundreds of ops, and the memory's own gradient "
            + "steps, each rounding on its own; the AdamW step in float64 only). Greedy generation must pick the same "
            + "tokens. Without a GPU it says so and, when NVRTC is found (TITANS_CUDA_PATH), compiles every kernel to PTX."
    )

    @Option(help: "The device to check against the CPU: cuda, or cpu (the CPU against itself: a check of the harness).")
    var device: ComputeDevice = .cuda
    @Flag(help: "Print every check, not only the failures and each table's summary.") var verbose = false

    func run() throws {
        do {
            _ = try ComputeDevice.onBoth(device) {}
        } catch let error as ComputeDevice.Unavailable {
            print("no GPU: \(error)")
            if let compiled = try BackendSelfTest.compileCUDAKernels() {
                print("\(compiled); nothing ran on a GPU")
            } else {
                print("NVRTC not found either (bash scripts/fetch-nvrtc, then TITANS_CUDA_PATH=.build/nvrtc): the kernels were not compiled")
            }
            throw ExitCode.failure
        }
        try ComputeDevice.select(device)
        print("device: \(ComputeDevice.description)")
        try ComputeDevice.select(.cpu)
        var failures = 0
        func report(_ title: String, _ checks: [BackendCheck]) {
            let failed = checks.filter { !$0.passed }
            failures += failed.count
            let worst = checks.map(\.worstError).max() ?? 0
            print("\(title): \(checks.count - failed.count) of \(checks.count) passed (worst \(String(format: "%.2e", worst)))")
            for check in checks where verbose || !check.passed { print("  \(check)") }
        }
        report("kernels", try BackendSelfTest.kernels(on: device))
        report("ops, forward and gradients", try BackendSelfTest.operations(on: device))
        report("memory and models", try DType.allCases.flatMap { dtype in
            try ModelSelfTest.cases(dtype).map { modelCase in
                let exact = modelCase.name.hasSuffix("generation")  // the same tokens, or it fails
                return try BackendSelfTest.compare(modelCase.name, dtype: dtype, tolerance: exact ? 0 : ModelSelfTest.tolerance(dtype),
                                                   on: device, modelCase.run)
            }
        })
        if failures > 0 {
            print("\(failures) check(s) failed")
            throw ExitCode.failure
        }
        print("all checks passed")
    }
}

extension ComputeDevice: ExpressibleByArgument {}
