import Testing
@testable import Titans
@testable import TitansTensor

/// ``CUDABackend`` with the CUDA kernels' source compiled for the CPU (``EmulatedCUDA``) against the CPU backend: every
/// kernel case, op case and model case of `titans selftest`, at the self-test's tolerances. Skipped, saying so, where
/// the toolchain has no clang++.
struct EmulatedCUDATests {
    static let emulation = EmulatedCUDA.compile()

    @Test func theKernelSourceComputesWhatTheCPUComputes() throws {
        guard let emulated = Self.emulation.0 else {
            print("EmulatedCUDATests: skipped, the kernels could not be compiled for the CPU: \(Self.emulation.1)")
            return
        }
        let backend = CUDABackend(emulated)
        let kernels = BackendSelfTest.kernels(backend)
        let failed = kernels.filter { !$0.passed }
        #expect(failed.isEmpty, "\(failed)")
        var worst: [String: Double] = ["kernels": kernels.map(\.worstError).max() ?? 0]
        for dtype in DType.allCases {  // at the tolerances of `titans selftest`
            let cases = BackendSelfTest.operationCases(dtype).map { ($0, "ops", BackendSelfTest.operationTolerance(dtype)) }
                + ModelSelfTest.cases(dtype).map { ($0, "models", $0.name.hasSuffix("generation") ? 0 : ModelSelfTest.tolerance(dtype)) }
            for (check, kind, tolerance) in cases {
                let onCPU = check.run()
                let error = BackendSelfTest.worstError(ComputeDevice.using(backend) { check.run() }, onCPU)
                #expect(error <= tolerance, "\(check.name) (\(dtype)): \(error)")
                worst["\(kind) \(dtype)"] = max(worst["\(kind) \(dtype)"] ?? 0, error)
            }
        }
        print("EmulatedCUDATests: worst differences from the CPU: " + worst.sorted { $0.key < $1.key }
            .map { "\($0.key) \(String(format: "%.1e", $0.value))" }.joined(separator: ", "))
    }
}
