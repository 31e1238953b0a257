import ArgumentParser
import Foundation
import TitansEval
import TitansTraining

/// `titans demo`: what Titans is for, in a few minutes. A small Titans model and the sliding-window baseline of the same
/// size and window learn a synthetic recall task whose facts lie far before the question; accuracy by distance shows
/// the memory recalling what attention can no longer see.
struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Train a small Titans model and a sliding-window baseline on long-context recall; compare accuracy by distance.",
        discussion: "Everything is embedded (no download, no file). Writes the table and an SVG chart to --output."
    )

    /// The demo's model, from the library's preset.
    static let preset = ModelConfiguration.demo(.mag)

    @Option(help: "Architecture to train against the sliding-window baseline: \(ModelConfiguration.Architecture.allCases.map(\.commandLineName).joined(separator: ", ")).")
    var architecture = preset.architecture.commandLineName
    @Option(help: "Attention window (distances go from 1× to 32× it).") var window = preset.window
    @Option(help: "Optimiser steps per model.") var steps = 500
    @Option(help: "Sequences per step.") var batchSize = 16
    @Option(help: "Model width.") var width = preset.width
    @Option(help: "Blocks.") var layers = preset.layers
    @Option(help: "Peak learning rate.") var learningRate = 3e-3
    @Option(help: "Facts (and questions) per sequence; every answer is scored in training.") var facts = 8
    @Option(help: "Depth of the memory MLP (1: a matrix memory).") var memoryDepth = preset.memory.memoryDepth
    @Option(help: "Largest inner learning rate θ of the memory.") var memoryLearningRate = preset.memory.maxLearningRate
    @Option(help: "The memory's step rule: \(StepRule.names.joined(separator: ", ")).") var stepRule = preset.memory.stepRule.description
    @Option(help: "The memory's inner objective: \(InnerLoss.names.joined(separator: ", ")).") var innerLoss = preset.memory.innerLoss.description
    @Option(help: "Examples per distance when measuring accuracy.") var examples = 128
    @Option(help: "Seed for initialisation and data.") var seed: UInt64 = 0
    @Option(help: "Folder for the table and the chart.") var output = "titans-demo"

    @OptionGroup var computeDevice: DeviceOption

    func run() throws {
        try computeDevice.apply()
        guard let variant = ModelConfiguration.Architecture.allCases.first(where: { $0.commandLineName == architecture }) else {
            let names = ModelConfiguration.Architecture.allCases.map(\.commandLineName).joined(separator: ", ")
            throw ValidationError("--architecture must be one of \(names), not \(architecture)")
        }
        // Sequences are 32 windows long: a window of 256 already makes them 8,200 bytes.
        guard (2...256).contains(window), steps >= 1, batchSize >= 1, examples >= 1, (1...RecallTask.keys.count).contains(facts) else {
            throw ValidationError("window 2...256; steps, batch size and examples ≥ 1; facts 1...\(RecallTask.keys.count)")
        }
        let models = try [(variant.commandLineName.uppercased(), variant), ("SWA baseline", .slidingWindow)].map { name, kind in
            (name, try configuration(kind))
        }
        let folder = URL(fileURLWithPath: output)  // made first, so a bad --output fails before minutes of training
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        } catch {
            throw CommandError("cannot create the folder \(folder.path) (\((error as NSError).localizedDescription)); choose another --output")
        }
        let distances = (0...5).map { window << $0 }  // 1×, 2×, 4×, 8×, 16×, 32× the window
        let task = RecallTask(length: distances.last! + 8, facts: facts)
        let training = TrainingConfiguration(steps: steps, batchSize: batchSize, sequenceLength: task.length,
                                             learningRate: learningRate, seed: seed, evaluationInterval: steps, evaluationBatches: 2)
        if let problem = training.problem { throw ValidationError(problem) }
        let source = RecallBatches(task: task, distances: 3...task.maximumDistance)
        print("Recall task: \(facts) facts `#KV` in random filler, each asked later as `?K` (answer V); accuracy is read on the "
              + "last question, whose fact lies 1× to 32× the window (\(window)) before it. Sequences of \(task.length) bytes; "
              + "memory depth \(memoryDepth). Matmul: \(BLAS.backendName)")

        var results: [(name: String, accuracy: [Double], parameters: Int, seconds: Double)] = []
        for (name, config) in models {
            var rng = RandomGenerator(seed: seed)
            let model = LanguageModel(config, generator: &rng)
            let trainer = Trainer(model: model, source: source, configuration: training)
            var progress = Progress(total: steps, label: name.padding(toLength: 12, withPad: " ", startingAt: 0))
            let start = Date()
            var tokens = 0, loss = RunningMean(window: 20)
            for _ in 0..<steps {
                let report = try trainer.trainStep()
                tokens += report.tokens
                let rate = Double(tokens) / Date().timeIntervalSince(start)
                progress.update(report.step, String(format: "loss %.3f  %.0f tok/s", loss.add(report.loss), rate))
            }
            let seconds = Date().timeIntervalSince(start)
            let accuracy = RecallEvaluation.accuracy(of: model, task: task, distances: distances, examples: examples)
            results.append((name, accuracy, model.parameterCount, seconds))
        }

        let headers = ["distance"] + results.map { "\($0.name) (\($0.parameters) params)" }
        let rows = distances.enumerated().map { i, d in
            ["\(d) (\(d / window)× window)"] + results.map { String(format: "%.1f%%", 100 * $0.accuracy[i]) }
        }
        let table = DemoCommand.markdown(headers: headers, rows: rows)
        print("")
        print("Recall accuracy by distance (\(examples) examples each; chance is \(String(format: "%.1f%%", 100.0 / Double(RecallTask.values.count)))):")
        print(table)
        for r in results { print(String(format: "%@: trained %d steps in %.0f s", r.name, steps, r.seconds)) }
        try table.write(to: folder.appendingPathComponent("recall.md"), atomically: true, encoding: .utf8)
        try DemoCommand.chart(distances: distances, window: window, results: results.map { ($0.name, $0.accuracy) })
            .write(to: folder.appendingPathComponent("recall.svg"))
        print("Wrote \(folder.appendingPathComponent("recall.md").path) and \(folder.appendingPathComponent("recall.svg").path)")
    }

    /// The demo's model of `kind` with the flags laid over the preset, or a message saying which flag to fix.
    private func configuration(_ kind: ModelConfiguration.Architecture) throws -> ModelConfiguration {
        var config = ModelConfiguration.demo(kind, window: window, memoryDepth: memoryDepth)
        config.resize(width: width, heads: config.heads)
        config.layers = layers
        config.memory.maxLearningRate = memoryLearningRate
        config.memory.stepRule = try ModelOptions.stepRule(stepRule)
        config.memory.innerLoss = try ModelOptions.innerLoss(innerLoss)
        if let problem = config.problem { throw ValidationError("these flags do not describe a model: \(problem)") }
        return config
    }
}
