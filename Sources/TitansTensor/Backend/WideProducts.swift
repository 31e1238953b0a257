import Foundation
import Synchronization

/// Whether a large matrix–vector product (``BLAS/wideVectorProduct``) runs on more than one core now. More cores pay
/// only while they are free: when other processes hold them, the call waits for a helper thread the system has not
/// scheduled — milliseconds for work of microseconds (decoding MAG fell from 666 to 4.5 bytes/s beside a two-job
/// training run, and ran at 563–1,020 on one thread). So a call slower than `slowNanosecondsPerElement` per matrix
/// element (a gigabyte a second, far below any machine's memory rate; such calls take 0.1–0.2 here) keeps the next `pause` calls
/// on one core; `pause` doubles, up to `longestPause`, while the calls that try again stay slow, and resets when one
/// is fast.
///
/// ```swift
/// var wide = WideProducts()
/// if wide.allowed() { /* … on every core … */ wide.record(nanoseconds: 3_000_000, elements: 1 << 16) }
/// wide.allowed()   // false: the next 256 calls run on one core
/// ```
struct WideProducts {
    static let slowNanosecondsPerElement = 4.0
    static let firstPause = 256, longestPause = 1 << 16

    /// Calls still to run on one core, and how many the next slow call holds back.
    private(set) var remaining = 0
    private(set) var pause = firstPause

    /// Whether this call may use every core (a call held back counts down the pause).
    mutating func allowed() -> Bool {
        guard remaining > 0 else { return true }
        remaining -= 1
        return false
    }

    /// A product of `elements` matrix elements on every core took `nanoseconds`.
    mutating func record(nanoseconds: UInt64, elements: Int) {
        if Double(nanoseconds) > Self.slowNanosecondsPerElement * Double(elements) {
            remaining = pause
            pause = Swift.min(2 * pause, Self.longestPause)
        } else {
            pause = Self.firstPause
        }
    }

    /// The process's record, shared by every thread that multiplies.
    static let shared = Mutex(WideProducts())
}
