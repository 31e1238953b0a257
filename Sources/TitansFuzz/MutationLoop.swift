#if !FUZZING
import Foundation
import TitansTraining

/// `titans-fuzz`, built without libFuzzer: writes the seed corpus, or fuzzes the readers with a plain mutation loop
/// (scripts/fuzz uses libFuzzer when the toolchain has it, this loop otherwise).
///
///     titans-fuzz seeds DIR                         write the seed corpus into DIR
///     titans-fuzz run DIR [RUNS] [SEED]             mutate DIR's files RUNS times (default 100000)
@main
struct MutationLoop {
    static func main() {
        let arguments = CommandLine.arguments.dropFirst()
        do {
            switch (arguments.first, arguments.count) {
            case ("seeds", 2): try SeedCorpus.write(into: URL(fileURLWithPath: arguments.last ?? "."))
            case ("run", 2...4):
                let values = Array(arguments.dropFirst())
                guard let runs = values.count > 1 ? Int(values[1]) : 100_000, runs > 0,
                      let seed = values.count > 2 ? UInt64(values[2]) : 1 else { usage() }
                try fuzz(corpus: URL(fileURLWithPath: values[0]), runs: runs, seed: seed)
            default: usage()
            }
        } catch {
            FileHandle.standardError.write(Data("titans-fuzz: \(error)\n".utf8))
            exit(1)
        }
    }

    static func usage() -> Never {
        FileHandle.standardError.write(Data("usage: titans-fuzz seeds DIR | titans-fuzz run DIR [RUNS] [SEED]\n".utf8))
        exit(2)
    }

    /// Runs mutated corpus files through ``FuzzTarget``; a crash ends the process (the input is saved first), a run
    /// over a second is reported as a hang, and the peak memory is checked against a bound at the end.
    static func fuzz(corpus: URL, runs: Int, seed: UInt64) throws {
        let files = try FileManager.default.contentsOfDirectory(at: corpus, includingPropertiesForKeys: nil)
            .filter { !$0.hasDirectoryPath }.sorted { $0.path < $1.path }
        let seeds = try files.map { try Data(contentsOf: $0) }
        guard !seeds.isEmpty else { throw FuzzError("no files in \(corpus.path); write them with titans-fuzz seeds DIR") }
        var mutator = Mutator(seed: seed)
        var outcomes: [FuzzTarget.Outcome: Int] = [:]
        var slowest = 0.0, hangs = 0
        let crashFile = URL(fileURLWithPath: "fuzz-crash-input.bin")
        let start = Date()
        for _ in 0..<runs {
            let input = mutator.mutate(seeds)
            try input.write(to: crashFile)  // left behind only if the run below crashes
            let begin = Date()
            outcomes[FuzzTarget.run(input), default: 0] += 1
            let seconds = Date().timeIntervalSince(begin)
            slowest = max(slowest, seconds)
            if seconds > 1 {
                hangs += 1
                try input.write(to: URL(fileURLWithPath: "fuzz-hang-\(hangs).bin"))
            }
        }
        try? FileManager.default.removeItem(at: crashFile)
        let elapsed = Date().timeIntervalSince(start)
        let peakMB = peakResidentMegabytes()
        print(String(format: "%d executions in %.1f s (%.0f/s), %d seeds, 0 crashes, %d hangs (slowest %.3f s), peak memory %.0f MB",
                     runs, elapsed, Double(runs) / elapsed, seeds.count, hangs, slowest, peakMB))
        for (outcome, count) in outcomes.sorted(by: { $0.value > $1.value }) { print("  \(count)\t\(outcome)") }
        if hangs > 0 { throw FuzzError("\(hangs) inputs took over a second (saved as fuzz-hang-N.bin)") }
        if peakMB > Double(Mutator.peakMemoryBoundMB) { throw FuzzError("peak memory \(Int(peakMB)) MB is over the bound of \(Mutator.peakMemoryBoundMB) MB") }
    }
}

struct FuzzError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
#endif
