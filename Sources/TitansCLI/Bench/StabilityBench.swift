import ArgumentParser
import Foundation
import TitansEval
import TitansTraining

/// `titans bench stability`: which memories diverge, by depth, chunk size, inner learning rate and step rule.
struct StabilityBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stability",
        abstract: "Train small models over memory depth × chunk size × inner learning rate × step rule; print which diverge.",
        discussion: """
            Each cell trains --steps steps on text and on the recall task and reports the step of a divergence (a \
            non-finite loss or gradient, or a loss above 1.5 × ln 256) or the mean loss of its last ten steps and the \
            validation loss, and for recall the accuracy with the fact 2× and 4× the window away. Text defaults to the licence texts in /usr/share/common-licenses (English prose on every \
            Debian system); pass any file with --data. Writes the tables to --output/stability.md.
            """
    )

    @Option(help: "Architecture: mac, mag, mal or lmm.") var architecture = "mag"
    @Option(help: "Step rules, comma-separated: \(StepRule.names.joined(separator: ", ")).")
    var rules = "plain,layer-normalized,curvature-normalized,clipped:1,chunk-mean,chunk-bounded:0.5,momentum-bounded:0.5"
    @Option(help: "Memory depths, comma-separated.") var depths = "1,2,3,4"
    @Option(help: "Chunk sizes, comma-separated.") var chunks = "1,16,64"
    @Option(help: "Multiples of --learning-rate-base for θ_max, comma-separated.") var scales = "1,3,10"
    @Option(help: "The θ_max the scales multiply.") var learningRateBase = 0.1
    @Option(help: "Tasks, comma-separated: text, recall.") var tasks = "text,recall"
    @Option(help: "Text for the text task (default: the files of /usr/share/common-licenses).") var data: String?
    @Option(help: "Training steps per cell.") var steps = 60
    @Option(help: "Model width.") var width = 64
    @Option(help: "Blocks.") var layers = 2
    @Option(help: "Sequence length (also the recall task's).") var sequenceLength = 128
    @Option(help: "Sequences per step.") var batchSize = 4
    @Option(help: "Validation batches per cell.") var evaluationBatches = 2
    @Option(help: "Seed for initialisation and data.") var seed: UInt64 = 0
    @Option(help: "Folder for stability.md.") var output = "titans-stability"

    @OptionGroup var computeDevice: DeviceOption

    func run() throws {
        try computeDevice.apply()
        guard let variant = ModelConfiguration.Architecture(rawValue: architecture), [.mac, .mag, .mal, .lmm].contains(variant) else {
            throw ValidationError("--architecture must be mac, mag, mal or lmm, not \(architecture)")
        }
        let ruleList = try list(rules, "--rules") { StepRule($0) }
        let depthList = try list(depths, "--depths") { Int($0).flatMap { $0 >= 1 ? $0 : nil } }
        let chunkList = try list(chunks, "--chunks") { Int($0).flatMap { $0 >= 1 ? $0 : nil } }
        let scaleList = try list(scales, "--scales") { Double($0).flatMap { $0 > 0 ? $0 : nil } }
        let taskList = try list(tasks, "--tasks") { StabilityStudy.Task(rawValue: $0) }
        guard steps >= 1, width >= 4, layers >= 1, sequenceLength >= 32, batchSize >= 1, learningRateBase > 0, evaluationBatches >= 1 else {
            throw ValidationError("--steps, --layers, --batch-size, --evaluation-batches ≥ 1; --width ≥ 4; --sequence-length ≥ 32; "
                                  + "--learning-rate-base > 0")
        }
        let text = taskList.contains(.text) ? try loadText() : nil
        let study = StabilityStudy(architecture: variant, width: width, layers: layers, steps: steps, batchSize: batchSize,
                                   sequenceLength: sequenceLength, seed: seed, evaluationBatches: evaluationBatches, text: text)
        let folder = URL(fileURLWithPath: output)
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        } catch {
            throw CommandError("cannot create the folder \(folder.path) (\((error as NSError).localizedDescription)); choose another --output")
        }
        print("Stability study: \(variant.rawValue.uppercased()), width \(width), \(layers) blocks, \(steps) steps of \(batchSize) × "
              + "\(sequenceLength) bytes per cell; text: \(text?.source ?? "none"). Matmul: \(BLAS.backendName)")
        var report = "# Stability study\n\n\(variant.rawValue.uppercased()), width \(width), \(layers) blocks, \(steps) steps of "
            + "\(batchSize) × \(sequenceLength) bytes per cell. A cell shows the step where training diverged, or the mean "
            + "training loss of its last ten steps / the validation loss (nats per byte), and for recall (in brackets) the "
            + "accuracy with the fact 2× and 4× the attention window away.\n"
        for task in taskList {
            for rule in ruleList {
                var rows: [[String]] = []
                for depth in depthList {
                    for chunk in chunkList {
                        var row = ["\(depth)", "\(chunk)"]
                        for scale in scaleList {
                            let cell = StabilityStudy.Cell(task: task, rule: rule, depth: depth, chunkSize: chunk,
                                                           maxLearningRate: learningRateBase * scale)
                            let start = Date()
                            let outcome = try study.run(cell)
                            let entry = Self.entry(outcome)
                            print(String(format: "%@ %@ depth %d chunk %d θ %.3g: %@ (%.0f s)", task.rawValue, rule.description,
                                         depth, chunk, cell.maxLearningRate, entry, Date().timeIntervalSince(start)))
                            fflush(stdout)
                            row.append(entry)
                        }
                        rows.append(row)
                    }
                }
                let headers = ["depth", "chunk"] + scaleList.map { String(format: "θ %.3g", learningRateBase * $0) }
                let table = MarkdownTable(headers: headers, rows: rows).render()
                print("\n\(task.rawValue), step rule \(rule):\n\(table)")
                report += "\n## \(task.rawValue), step rule `\(rule)`\n\n\(table)\n"
            }
        }
        let url = folder.appendingPathComponent("stability.md")
        try report.write(to: url, atomically: true, encoding: .utf8)
        print("Wrote \(url.path)")
    }

    /// "NaN@12"-style divergence, or "final / validation".
    static func entry(_ outcome: StabilityStudy.Outcome) -> String {
        if let step = outcome.divergedAt { return "\(outcome.divergence ?? "diverged")@\(step)" }
        let losses = String(format: "%.2f / %.2f", outcome.finalLoss, outcome.validationLoss ?? .nan)
        return outcome.recallBeyondWindow.map { losses + String(format: " (%.0f%%)", 100 * $0) } ?? losses
    }

    /// A comma-separated flag's values, each read by `parse`, or an error naming the flag and the bad value.
    private func list<T>(_ text: String, _ flag: String, _ parse: (String) -> T?) throws -> [T] {
        let items = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        guard !items.isEmpty else { throw ValidationError("\(flag) needs at least one value") }
        return try items.map { item in
            guard let value = parse(item) else { throw ValidationError("\(flag): cannot read \"\(item)\"") }
            return value
        }
    }

    /// --data, or the licence texts every Debian system has.
    private func loadText() throws -> ByteDataset {
        if let data { return try ByteDataset(contentsOf: URL(fileURLWithPath: data), minimumLength: sequenceLength) }
        let folder = "/usr/share/common-licenses"
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).sorted()
        let bytes = names.flatMap { name -> [UInt8] in
            let path = (folder as NSString).appendingPathComponent(name)
            guard (try? FileManager.default.destinationOfSymbolicLink(atPath: path)) == nil else { return [] }  // GPL → GPL-3
            return (try? Data(contentsOf: URL(fileURLWithPath: path))).map([UInt8].init) ?? []
        }
        guard !bytes.isEmpty else {
            throw ValidationError("no default text here (\(folder) is missing or empty); pass a text file with --data")
        }
        return try ByteDataset(bytes: bytes, name: folder, minimumLength: sequenceLength)
    }
}
