import Foundation
import TitansTraining

/// A one-line progress bar on a terminal (rewritten in place), or a line every few seconds when output is a file.
struct Progress {
    let total: Int
    let label: String
    /// Where this session started counting (a resumed run starts past 0), for the ETA.
    let first: Int
    private let start = Date()
    private var lastPrint = Date.distantPast
    private let interactive = isatty(STDOUT_FILENO) != 0

    init(total: Int, label: String, start first: Int = 0) {
        self.total = total
        self.label = label
        self.first = first
    }

    /// Shows `done` of `total` with extra fields (loss, tokens/s) and the estimated time left.
    mutating func update(_ done: Int, _ fields: String) {
        let now = Date()
        let finished = done >= total
        guard finished || now.timeIntervalSince(lastPrint) >= (interactive ? 0.2 : 10) else { return }
        lastPrint = now
        let elapsed = now.timeIntervalSince(start)
        let eta = done > first ? elapsed / Double(done - first) * Double(total - done) : 0
        let width = 24, filled = total > 0 ? width * done / total : width
        let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
        let line = "\(label) \(bar) \(done)/\(total)  \(fields)  elapsed \(Self.clock(elapsed)) eta \(Self.clock(eta))"
        if interactive {
            print("\r\u{1B}[K" + line, terminator: finished ? "\n" : "")
        } else {
            print(line)
        }
        fflush(stdout)
    }

    static func clock(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        return s >= 3600 ? String(format: "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60) : String(format: "%d:%02d", s / 60, s % 60)
    }
}

/// A failure the user can act on, printed as `Error: <message>` without the usage text.
struct CommandError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Runs `trainer` to its last step with a progress bar of the mean loss over the last 20 steps (`forecast train`,
/// `dna train`); returns the seconds it took.
func trainShowingProgress<Model>(_ trainer: Trainer<Model>, label: String, lossName: String) throws -> Double {
    var progress = Progress(total: trainer.configuration.steps, label: label), loss = RunningMean(window: 20)
    let start = Date()
    while trainer.step < trainer.configuration.steps {
        let mean = loss.add(try trainer.trainStep().loss)
        progress.update(trainer.step, String(format: "\(lossName) %.4f", mean))
    }
    return Date().timeIntervalSince(start)
}
