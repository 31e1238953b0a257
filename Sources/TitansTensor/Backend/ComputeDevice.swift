import Foundation
import Synchronization

/// Where the ops compute: the CPU (the reference, and the default) or an NVIDIA GPU through the CUDA backend. Chosen
/// once per process, by `--device` on the commands that compute or by `TITANS_DEVICE`, before the work starts.
///
/// ```swift
/// try ComputeDevice.select(.cuda)   // throws, saying what is missing, on a machine without a GPU
/// print(ComputeDevice.description)  // "cuda: NVIDIA H100 80GB HBM3 (compute capability 9.0), NVRTC 13.0, …"
/// ```
public enum ComputeDevice: String, CaseIterable, Sendable {
    case cpu, cuda

    /// Why the GPU cannot be used here, said in words a user can act on.
    public struct Unavailable: Error, CustomStringConvertible {
        public let description: String
    }

    /// The backend every op runs on. Written only by ``select(_:)``, before the ops that use it.
    nonisolated(unsafe) static private(set) var activeBackend: any ComputeBackend = CPUBackend.shared
    /// A backend for the ops of one task and what it calls (the tests' simulated device), ahead of the selected one.
    @TaskLocal private static var scopedBackend: (any ComputeBackend)?
    /// How many ``using(_:_:)`` calls are running: while none is, an op does not look up the task-local.
    private static let scopes = Atomic<Int>(0)

    /// The backend an op runs on: the task's own, else the selected device's.
    static var backendForOps: any ComputeBackend {
        scopes.load(ordering: .relaxed) == 0 ? activeBackend : scopedBackend ?? activeBackend
    }

    /// `body` with its ops on `backend`, whatever device is selected for the rest of the process.
    static func using<R>(_ backend: any ComputeBackend, _ body: () throws -> R) rethrows -> R {
        scopes.add(1, ordering: .relaxed)
        defer { scopes.subtract(1, ordering: .relaxed) }
        return try $scopedBackend.withValue(backend, operation: body)
    }

    /// The device selected now.
    nonisolated(unsafe) public static private(set) var current: ComputeDevice = .cpu
    nonisolated(unsafe) private static var gpu: (backend: CUDABackend, device: CUDAGPU)?

    /// Makes every op from now on run on `device`. `.cuda` loads the driver, cuBLAS and NVRTC and compiles the
    /// kernels (once per process); throws ``Unavailable`` when any of them is missing, leaving the selection as it was.
    /// Not to be called while ops run on other threads.
    public static func select(_ device: ComputeDevice) throws {
        switch device {
        case .cpu:
            activeBackend = CPUBackend.shared
        case .cuda:
            activeBackend = try backend(for: .cuda)
        }
        current = device
    }

    /// `device`'s backend, started if it was not (as ``select(_:)`` does, without selecting it).
    static func backend(for device: ComputeDevice) throws -> any ComputeBackend {
        switch device {
        case .cpu: return CPUBackend.shared
        case .cuda:
            let opened = try gpu ?? openCUDA()
            gpu = opened
            return opened.backend
        }
    }

    /// `body` run with the CPU selected and then with `device`; the selection is restored after.
    public static func onBoth<R>(_ device: ComputeDevice, _ body: () throws -> R) throws -> (cpu: R, device: R) {
        let before = current
        defer { try? select(before) }
        try select(.cpu)
        let onCPU = try body()
        try select(device)
        return (onCPU, try body())
    }

    /// `TITANS_DEVICE`'s device (`cpu` when unset); throws ``Unavailable`` for a value that names none.
    public static func fromEnvironment() throws -> ComputeDevice {
        guard let value = ProcessInfo.processInfo.environment["TITANS_DEVICE"], !value.isEmpty else { return .cpu }
        guard let device = ComputeDevice(rawValue: value.lowercased()) else {
            throw Unavailable(description: "TITANS_DEVICE=\(value) names no device; use cpu or cuda")
        }
        return device
    }

    /// What computes the ops now, in one line.
    public static var description: String {
        guard current == .cuda, let gpu else { return "cpu (matmul: \(BLAS.backendName))" }
        let device = gpu.device, capability = device.driver.computeCapability
        return "cuda: \(device.driver.deviceName) (compute capability \(capability / 10).\(capability % 10)), \(device.compiledWith), "
            + "cuBLAS \(device.blas.library.name)"
    }

    private static func openCUDA() throws -> (backend: CUDABackend, device: CUDAGPU) {
        do {
            guard let driver = try CUDADriver.open() else {
                throw Unavailable(description: "no NVIDIA driver: libcuda.so.1 could not be loaded (this machine has no "
                                    + "NVIDIA GPU, or its driver is not installed); run with --device cpu")
            }
            let device = try CUDAGPU(driver: driver)
            return (CUDABackend(device), device)
        } catch let error as Unavailable {
            throw error
        } catch {
            throw Unavailable(description: "the GPU could not be used: \(error)")
        }
    }
}
