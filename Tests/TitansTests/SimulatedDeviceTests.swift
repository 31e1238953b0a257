import Testing
@testable import Titans
@testable import TitansTensor

/// Tensors kept on a device (``DeviceMirror``), driven here through ``SimulatedDevice``: the CPU's kernels on memory
/// apart from the host's, stale host copies filled with NaNs. Models must compute exactly what they compute on the
/// CPU, outputs must stay on the device until the host reads them, and a read must copy them back.
struct SimulatedDeviceTests {
    @Test func everyModelAndOpCaseComputesOnTheDeviceWhatItComputesOnTheCPU() {
        let device = SimulatedDevice()
        for dtype in DType.allCases {
            for check in ModelSelfTest.cases(dtype) + BackendSelfTest.operationCases(dtype) {
                let onCPU = check.run()
                let onDevice = ComputeDevice.using(device) { check.run() }
                #expect(BackendSelfTest.worstError(onDevice, onCPU) == 0, "\(check.name) (\(dtype))")
            }
        }
        #expect(device.uploads > 0 && device.downloads > 0)
    }

    @Test func trainingOnTheDeviceTakesTheCPUsSteps() {
        func train(on backend: (any ComputeBackend)?) -> [Double] {
            let body = {
                var rng = RandomGenerator(seed: 7)
                let model = LanguageModel(.demo(.mag), generator: &rng)
                let optimizer = AdamW(model.namedParameters(), learningRate: 3e-3)
                let tokens = IndexTensor(shape: [2, 16], (0..<32).map { ($0 * 29 + 3) % 256 })
                for _ in 0..<5 {
                    model(tokens).logits.crossEntropy(targets: tokens).backward()
                    optimizer.step()
                    optimizer.zeroGradients()
                }
                return model.parameters().flatMap { $0.toArray() }
            }
            return backend.map { ComputeDevice.using($0, body) } ?? body()
        }
        #expect(BackendSelfTest.worstError(train(on: SimulatedDevice()), train(on: nil)) == 0)
    }

    @Test func outputsStayOnTheDeviceUntilTheHostReadsThem() {
        let device = SimulatedDevice()
        var rng = RandomGenerator(seed: 1)
        let x = Tensor.randomNormal([64], generator: &rng)
        let (y, hostBefore) = ComputeDevice.using(device) { () -> (Tensor, Float) in
            let y = ((x * 2).exp() + x).sigmoid()
            return (y, y.storage.raw.load(as: Float.self))  // the host's copy, read without the copy back
        }
        #expect(device.uploads == 1, "only x goes up; the intermediates never leave the device")
        #expect(device.downloads == 0)
        #expect(hostBefore.isNaN, "the host's stale copy is poisoned, so a read that skipped the copy back shows")
        let values = y.toFloatArray()
        #expect(device.downloads == 1)
        _ = ComputeDevice.using(device) { (y + 1).toFloatArray() }
        #expect(device.uploads == 1, "a read on the host leaves the device's copy current")
        let expected = ((x * 2).exp() + x).sigmoid().toFloatArray()
        #expect(values == expected)
    }

    @Test func aTensorWrittenOnTheHostGoesUpAgainBeforeTheDeviceReadsIt() {
        let device = SimulatedDevice()
        let x = Tensor.zeros([4])
        let first = ComputeDevice.using(device) { (x + 1).toFloatArray() }
        x.assign(Tensor.full([4], value: 5))  // written on the host after the device read it
        let second = ComputeDevice.using(device) { (x + 1).toFloatArray() }
        #expect(first == [1, 1, 1, 1] && second == [6, 6, 6, 6])
    }
}
