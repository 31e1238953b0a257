import ArgumentParser
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

@main
struct Titans: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "titans",
        abstract: "Titans (Learning to Memorize at Test Time) in Swift: train, run and study models with a neural long-term memory.",
        subcommands: [DemoCommand.self, TrainCommand.self, ForecastCommand.self, DNACommand.self, GenerateCommand.self, Bench.self, ParityCommand.self,
                      CompareCommand.self, TokenizerCommand.self, DataCommand.self, EvalCommand.self, ReproduceCommand.self,
                      SelfTestCommand.self]
    )

    static func main() {
        // Past a file-size limit a write then fails with EFBIG, which the writers report (and a checkpoint write
        // leaves the previous checkpoint), instead of SIGXFSZ ending the process.
        signal(SIGXFSZ, SIG_IGN)
        main(nil)
    }
}

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure speed on this machine (build with -c release first: debug Swift is 10–100× slower).",
        subcommands: [TensorBench.self, MemoryBench.self, ModelBench.self, StabilityBench.self, ScalingBench.self, TokenizerBench.self]
    )
}
