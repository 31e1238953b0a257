import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Ctrl-C (SIGINT) and SIGTERM during a long command. The first asks the command to stop after the step it is taking
/// (it writes a checkpoint and says how to resume); a second ends the process at once, with the conventional status
/// 128 + the signal's number. Checkpoints are written to a temporary file and renamed, so ending at once never
/// damages the last one.
enum Interruption {
    private static let received = Atomic<Int32>(0)

    /// Installs the handlers; until then the signals end the process as usual.
    static func install() {
        for number in [SIGINT, SIGTERM] {
            signal(number) { number in
                // Only async-signal-safe calls here: an atomic exchange, write(2) and _exit(2).
                if Interruption.received.exchange(number, ordering: .relaxed) != 0 { _exit(128 + number) }
                let note = "\ntitans: stopping after this step and writing a checkpoint (press Ctrl-C again to stop at once)\n"
                note.utf8CString.withUnsafeBufferPointer { _ = write(2, $0.baseAddress, $0.count - 1) }
            }
        }
    }

    /// The signal received, if any.
    static var receivedSignal: Int32? {
        let number = received.load(ordering: .relaxed)
        return number == 0 ? nil : number
    }
}
