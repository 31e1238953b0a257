import Foundation
import Synchronization

/// An opt-in profile of where time goes, by op family: set `TITANS_PROFILE=1` and the process prints, at exit, each
/// family's calls and self time (time inside its own op, not in the ops it calls) and the share of the time between
/// the first and the last op that the ops account for (the rest is the Swift code around them). Off, each op pays one
/// relaxed atomic load. It profiles whichever threads run ops, one table for all (so with parts on several cores the
/// shares are of thread time); which op is inside which is kept per thread. Run it on one model at a time.
///
/// ```swift
/// OpProfile.setEnabled(true)   // or TITANS_PROFILE=1
/// _ = model(tokens)
/// print(OpProfile.report())   // time and calls by op family
/// ```
public enum OpProfile {
    private static let requested = ProcessInfo.processInfo.environment["TITANS_PROFILE"] == "1"
    private static let enabled = Atomic<Bool>(requested)

    /// Whether ops are being counted: `TITANS_PROFILE=1` when the process started, or ``setEnabled(_:)``.
    public static var isEnabled: Bool { enabled.load(ordering: .relaxed) }

    /// Starts or stops counting (the report at exit is printed only when `TITANS_PROFILE=1` was set).
    public static func setEnabled(_ on: Bool) {
        state.withLock { _ in }  // registers the report at exit, when it was requested
        enabled.store(on, ordering: .relaxed)
    }

    /// Calls, self time, and the bytes of the outputs made while gradients were recorded: what a backward pass may keep.
    private struct Entry { var calls = 0, nanoseconds: UInt64 = 0, recordedBytes = 0 }
    private struct State {
        var table: [String: Entry] = [:]
        var first: UInt64?, last: UInt64 = 0
    }
    /// The ops open on one thread, each with the time spent in the ops under it (for self time).
    private final class OpenOps {
        var childTime: [UInt64] = []
    }
    private static let openOpsKey = "titans.op-profile.open-ops"
    /// This thread's open ops.
    private static var openOps: OpenOps {
        let dictionary = Thread.current.threadDictionary
        if let ops = dictionary[openOpsKey] as? OpenOps { return ops }
        let ops = OpenOps()
        dictionary[openOpsKey] = ops
        return ops
    }
    private static let state: Mutex<State> = {
        if requested { atexit { OpProfile.printReport() } }
        return Mutex(State())
    }()

    private static func now() -> UInt64 { DispatchTime.now().uptimeNanoseconds }

    /// Set inside ``countingOnlyHere(_:)``: the ops of this task are the ones counted.
    @TaskLocal private static var countedHere = false

    /// Whether this thread's ops are the ones ``countingOnlyHere(_:)`` counts, for carrying into other threads.
    static var isCountedHere: Bool { countedHere }

    /// Runs `body` counted as the caller was (``Parallel/shards(_:_:)`` carries it into the threads of the parts).
    static func continuing<R>(countedHere counted: Bool, _ body: () throws -> R) rethrows -> R {
        try $countedHere.withValue(counted, operation: body)
    }
    /// How many ``countingOnlyHere(_:)`` calls are running: while any is, ops of other tasks are not counted.
    private static let confinedRuns = Atomic<Int>(0)

    /// Counts the ops `body` runs on this task and no others (tests, which run beside other tests' ops).
    static func countingOnlyHere<R>(_ body: () throws -> R) rethrows -> R {
        confinedRuns.add(1, ordering: .relaxed)
        setEnabled(true)
        defer {
            setEnabled(false)
            confinedRuns.subtract(1, ordering: .relaxed)
        }
        return try $countedHere.withValue(true, operation: body)
    }

    /// Runs one op's `body`, counting it under `family` when profiling.
    @inline(__always)
    static func measure<R>(_ family: String, _ body: () -> R) -> R {
        guard isEnabled, confinedRuns.load(ordering: .relaxed) == 0 || countedHere else { return body() }
        let open = openOps
        open.childTime.append(0)
        let start = now()
        state.withLock { s in if s.first == nil { s.first = start } }
        let result = body()
        let end = now()
        let total = end - start
        let children = open.childTime.popLast() ?? 0
        if !open.childTime.isEmpty { open.childTime[open.childTime.count - 1] += total }
        let recorded = (result as? Tensor).map { $0.gradNode != nil ? $0.count * $0.dtype.byteCount : 0 } ?? 0
        state.withLock { s in
            s.table[family, default: Entry()].calls += 1
            s.table[family, default: Entry()].recordedBytes += recorded
            s.table[family, default: Entry()].nanoseconds += total - min(children, total)
            s.last = max(s.last, end)
        }
        return result
    }

    /// The report `TITANS_PROFILE=1` prints at exit: families by self time.
    public static func report() -> String {
        state.withLock { s in
            let span = Double(s.last - (s.first ?? s.last)) / 1e9
            let total = s.table.values.reduce(0.0) { $0 + Double($1.nanoseconds) / 1e9 }
            var lines = [String(format: "op profile: %.3f s in ops, %.1f%% of the %.3f s from the first op to the last",
                                total, span > 0 ? 100 * total / span : 0, span),
                         "  family              calls     seconds   share   µs/call   MB recorded (outputs kept for backward)"]
            for (family, e) in s.table.sorted(by: { $0.value.nanoseconds > $1.value.nanoseconds }) {
                let seconds = Double(e.nanoseconds) / 1e9
                lines.append(String(format: "  %@ %9d %11.3f %6.1f%% %9.2f %13.1f", family.padding(toLength: 18, withPad: " ", startingAt: 0),
                                    e.calls, seconds, total > 0 ? 100 * seconds / total : 0, 1e6 * seconds / Double(max(e.calls, 1)),
                                    Double(e.recordedBytes) / 1e6))
            }
            return lines.joined(separator: "\n")
        }
    }

    private static func printReport() {
        FileHandle.standardError.write(Data((report() + "\n").utf8))
    }
}
