import ArgumentParser
import Foundation
import Titans

/// `--device cpu|cuda`, on every command that computes; `TITANS_DEVICE` when it is not given.
struct DeviceOption: ParsableArguments {
    @Option(help: "Where the ops compute: cpu, or cuda (an NVIDIA GPU, loaded at run time; default: TITANS_DEVICE, else cpu).")
    var device: ComputeDevice?

    /// Selects the device before any op runs; a GPU that cannot be used is an error that says why.
    func apply() throws {
        let chosen: ComputeDevice
        do {
            chosen = try device ?? ComputeDevice.fromEnvironment()
            guard chosen != .cpu else { return }
            try ComputeDevice.select(chosen)
        } catch let error as ComputeDevice.Unavailable {
            throw CommandError(error.description)
        }
        FileHandle.standardError.write(Data("device: \(ComputeDevice.description)\n".utf8))
    }
}
