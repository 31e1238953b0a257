import Foundation

/// The process's peak resident set size in megabytes (what `bench memory`, `bench scaling` and the fuzzer report).
public func peakResidentMegabytes() -> Double {
    var usage = rusage()
    #if os(macOS)
    getrusage(RUSAGE_SELF, &usage)
    return Double(usage.ru_maxrss) / 1_048_576  // bytes on macOS
    #else
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_maxrss) / 1024  // kilobytes on Linux
    #endif
}
