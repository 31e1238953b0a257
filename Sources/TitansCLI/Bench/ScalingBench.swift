import ArgumentParser
import Foundation
import TitansTraining

/// `titans bench scaling`: training and forward speed, and peak memory, against sequence length at batch 1 (the
/// paper's Figs. 8–9). Each cell runs in a process of its own, so its peak memory is its own.
struct ScalingBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scaling",
        abstract: "Tokens/s of a training step and of a forward pass, and peak memory, by sequence length (batch 1).",
        discussion: "The standard model (width 256, 4 blocks) of each architecture, and of each memory depth for the "
            + "Titans variants. A cost flat in length keeps tokens/s flat and memory growing at most linearly."
    )

    @Option(help: "Comma-separated architectures.") var only = "mac,mag,mal,lmm,sliding-window,delta-net,gated-delta-net"
    @Option(help: "Memory depths of the Titans variants, comma-separated.") var depths = "1,2,3,4"
    @Option(help: "Sequence lengths, comma-separated.") var sequences = "2048,8192,32768,65536"
    @Option(help: "Timed repetitions per figure (the fastest counts, after a warm-up).") var repeats = 1
    @Flag(help: "Recompute each block in the backward pass instead of keeping its activations (as `titans train --recompute`).")
    var recompute = false
    @Option(help: ArgumentHelp("One cell, NAME:DEPTH:LENGTH, measured in this process.", visibility: .private)) var cell: String?

    @OptionGroup var computeDevice: DeviceOption

    func run() throws {
        try computeDevice.apply()
        guard repeats >= 1 else { throw ValidationError("--repeats must be at least 1") }
        if let cell { return try measure(cell) }
        let names = only.split(separator: ",").map(String.init)
        if let unknown = names.first(where: { !ModelOptions.names.contains($0) }) {
            throw ValidationError("--only takes architectures from \(ModelOptions.names.joined(separator: ", ")), not \(unknown)")
        }
        guard let depthList = Self.numbers(depths), let lengths = Self.numbers(sequences) else {
            throw ValidationError("--depths and --sequences take positive whole numbers, comma-separated")
        }
        let titans = ModelConfiguration.Architecture.allCases.filter { ![.transformer, .slidingWindow].contains($0) }
            .map(\.commandLineName)
        let rows = names.flatMap { name in titans.contains(name) ? depthList.map { (name, $0) } : [(name, 0)] }
        print("batch 1; train / forward tokens/s, peak memory of the process; matmul: \(BLAS.backendName)"
              + (recompute ? "; blocks recomputed in backward" : ""))
        print("model".padding(toLength: 18, withPad: " ", startingAt: 0)
              + lengths.map { String($0).padding(toLength: 26, withPad: " ", startingAt: 0) }.joined() + "train, forward at longest / shortest")
        var failures: [String] = []
        for (name, depth) in rows {
            // A cell that fails (out of memory, say) is named in its row; the table goes on.
            var cells: [(train: Double, forward: Double, megabytes: Double)?] = []
            for length in lengths {
                let cell = "\(name):\(depth):\(length)"
                do { cells.append(try subprocess(cell)) } catch {
                    cells.append(nil)
                    failures.append("\(cell): \(error)")
                }
            }
            let label = depth > 0 ? "\(name) d\(depth)" : name
            let measured = cells.compactMap { $0 }
            var ratio = "-"
            if measured.count > 1, let shortest = measured.first, let longest = measured.last {
                ratio = String(format: "%.2f, %.2f", longest.train / shortest.train, longest.forward / shortest.forward)
                if cells.last.flatMap({ $0 }) == nil { ratio += " (longest measured)" }
            }
            print(label.padding(toLength: 18, withPad: " ", startingAt: 0)
                  + cells.map { ($0.map { String(format: "%.0f / %.0f, %.0f MB", $0.train, $0.forward, $0.megabytes) } ?? "failed")
                      .padding(toLength: 26, withPad: " ", startingAt: 0) }.joined() + ratio)
        }
        guard failures.isEmpty else {
            failures.forEach { print("failed: \($0)") }
            throw ExitCode.failure
        }
    }

    static func numbers(_ text: String) -> [Int]? {
        let values = text.split(separator: ",").map { Int($0) }
        guard !values.isEmpty, values.allSatisfy({ ($0 ?? 0) > 0 }) else { return nil }
        return values.compactMap { $0 }
    }

    /// Runs one cell in a child process of this executable and reads its figures.
    private func subprocess(_ cell: String) throws -> (train: Double, forward: Double, megabytes: Double) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        if !FileManager.default.fileExists(atPath: process.executableURL?.path ?? "") {
            process.executableURL = Bundle.main.executableURL
        }
        process.arguments = ["bench", "scaling", "--cell", cell, "--repeats", String(repeats), "--device", ComputeDevice.current.rawValue]
            + (recompute ? ["--recompute"] : [])
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let fields = String(decoding: data, as: UTF8.self).split(separator: " ").compactMap { Double($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        guard process.terminationReason == .exit, process.terminationStatus == 0, fields.count == 3 else {
            let how = process.terminationReason == .uncaughtSignal
                ? "killed by signal \(process.terminationStatus)\(process.terminationStatus == 9 ? " (out of memory, most likely)" : "")"
                : "status \(process.terminationStatus)"
            throw CommandError("\(how); run `titans bench scaling --cell \(cell)` to see why")
        }
        return (fields[0], fields[1], fields[2])
    }

    /// Measures one cell here and prints "train forward megabytes".
    private func measure(_ cell: String) throws {
        let parts = cell.split(separator: ":").map(String.init)
        guard parts.count == 3, let depth = Int(parts[1]), let length = Int(parts[2]), length > 0 else {
            throw ValidationError("--cell takes NAME:DEPTH:LENGTH")
        }
        var config: ModelConfiguration
        let d = ModelConfiguration.standard()
        if let kind = ModelConfiguration.Architecture.allCases.first(where: { $0.commandLineName == parts[0] }) {
            config = .standard(kind)
            if depth > 0 { config.memory.memoryDepth = depth }
        } else if let baseline = RecurrentBaseline.allCases.first(where: { $0.commandLineName == parts[0] }) {
            config = .recurrentBaseline(baseline, width: d.width, layers: d.layers, heads: d.heads, chunkSize: d.memory.chunkSize)
        } else {
            throw ValidationError("--cell: no architecture \(parts[0])")
        }
        if let problem = config.problem { throw ValidationError(problem) }
        let speed = ModelThroughput.measure(config, length: length, repeats: repeats, recompute: recompute)
        print(String(format: "%.1f %.1f %.1f", speed.training, speed.forward, peakResidentMegabytes()))
    }
}
