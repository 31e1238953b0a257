import Testing
@testable import Titans

/// The model-level cases of `titans selftest`: each must compute the same finite numbers every run (else no device
/// could be held to it), cover every architecture, and generation must produce its tokens.
struct ModelSelfTestTests {
    @Test func everyCaseIsDeterministicFiniteAndNotEmpty() {
        let cases = ModelSelfTest.cases(.float64)
        for modelCase in cases {
            let first = modelCase.run(), second = modelCase.run()
            #expect(!first.isEmpty && first.allSatisfy(\.isFinite), "\(modelCase.name)")
            #expect(first == second, "\(modelCase.name)")
            if modelCase.name.hasSuffix("generation") { #expect(first.count == 10, "\(modelCase.name): \(first)") }
        }
        for (name, _) in ModelSelfTest.configurations {
            for kind in ["training step", "streamed in pieces", "greedy generation"] {
                #expect(cases.contains { $0.name.hasPrefix("\(name): \(kind)") }, "no \(kind) of \(name)")
            }
        }
        #expect(ModelSelfTest.configurations.count == ModelConfiguration.Architecture.allCases.count + RecurrentBaseline.allCases.count)
    }
}
