import Testing
@testable import TitansTensor

/// Large matrix–vector products leave the extra cores after a call that waited for one, for longer while they keep
/// waiting, and take them again once a call is fast.
struct WideProductsTests {
    private let elements = 1 << 16
    private var slow: UInt64 { UInt64(WideProducts.slowNanosecondsPerElement * Double(elements)) * 4 }
    private var fast: UInt64 { UInt64(elements) / 8 }

    /// How many calls in a row are held back.
    private func heldBack(_ wide: inout WideProducts) -> Int {
        var count = 0
        while !wide.allowed() { count += 1 }
        return count
    }

    @Test func slowCallsPauseForLongerUntilOneIsFast() {
        var wide = WideProducts()
        for _ in 0..<3 {
            let allowed = wide.allowed()
            #expect(allowed)
            wide.record(nanoseconds: fast, elements: elements)
        }
        var pauses: [Int] = []
        for _ in 0..<3 {
            wide.record(nanoseconds: slow, elements: elements)
            pauses.append(heldBack(&wide))  // the call after the pause is allowed again
        }
        #expect(pauses == [256, 512, 1024])
        wide.record(nanoseconds: fast, elements: elements)
        let allowed = wide.allowed()
        #expect(allowed)
        wide.record(nanoseconds: slow, elements: elements)
        #expect(heldBack(&wide) == WideProducts.firstPause)
    }

    @Test func thePauseStopsGrowing() {
        var wide = WideProducts()
        for _ in 0..<30 { wide.record(nanoseconds: slow, elements: elements) }
        #expect(wide.pause == WideProducts.longestPause && wide.remaining == WideProducts.longestPause)
    }
}
