import Foundation
import Testing
import Titans

/// Every committed titans-pytorch fixture (tools/parity) reproduced by TitansPyTorchMemory.
struct ParityTests {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/parity")

    static var fixtures: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? [])
            .filter { $0.hasSuffix(".safetensors") }.sorted()
    }

    @Test func atLeastEightFixturesAreCommitted() {
        #expect(Self.fixtures.count >= 8)
    }

    @Test(arguments: fixtures)
    func fixtureMatches(_ name: String) throws {
        let check = try ParityCheck.run(Self.directory.appendingPathComponent(name))
        for c in check.comparisons {
            #expect(c.passed, "\(name): \(c.name) relative error \(c.relativeError) > \(c.tolerance)")
        }
    }
}

/// The check can fail: a fixture whose key projection is nudged by 1% must be reported as a mismatch.
struct ParityCheckSensitivityTests {
    @Test func aNudgedWeightIsAMismatch() throws {
        let source = ParityTests.directory.appendingPathComponent("h1_L2_c4_n18_nomom.safetensors")
        let file = try SafetensorsFile.read(from: source)
        let tensors = try file.names.map { name -> (name: String, tensor: Tensor) in
            let t = try file.tensor(named: name)
            return (name, name == "param.to_keys.weight" ? t * 1.01 : t)
        }
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("nudged-\(UInt64.random(in: 0...UInt64.max)).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        try SafetensorsFile.write(tensors, metadata: file.metadata, to: url)
        let check = try ParityCheck.run(url)
        #expect(!check.passed)
        #expect(check.comparisons.first { $0.name == "output" }!.relativeError > ParityCheck.outputTolerance)
    }
}
