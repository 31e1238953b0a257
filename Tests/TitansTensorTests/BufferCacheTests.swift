import Testing
@testable import TitansTensor

/// Large freed buffers are reused; reuse never leaks old values into tensors that promise zeros.
struct BufferCacheTests {
    @Test func freedLargeBufferIsReusedForTheSameSize() {
        let bytes = 3 << 20 + 12_345  // a size no other test allocates
        let first = BufferCache.allocate(byteCount: bytes)
        BufferCache.deallocate(first, byteCount: bytes)
        let second = BufferCache.allocate(byteCount: bytes + 100)  // same whole number of pages
        #expect(second == first)
        BufferCache.deallocate(second, byteCount: bytes)
    }

    @Test func zerosAreZeroEvenInAReusedBuffer() {
        let count = 300_001
        do {
            let filled = Tensor.full([count], value: 7)
            #expect(filled[count - 1] == 7)
        }
        let zeros = Tensor.zeros([count])
        #expect(zeros.toFloatArray().allSatisfy { $0 == 0 })
    }

    /// Small buffers come from the system allocator at its own alignment; large ones are 64-byte aligned.
    @Test func smallBuffersBypassTheCache() {
        let bytes = BufferCache.minimumBytes - 64
        let pointer = BufferCache.allocate(byteCount: bytes)
        #expect(Int(bitPattern: pointer) % BufferCache.smallAlignment == 0)
        BufferCache.deallocate(pointer, byteCount: bytes)
        let large = BufferCache.allocate(byteCount: BufferCache.minimumBytes)
        #expect(Int(bitPattern: large) % 64 == 0)
        BufferCache.deallocate(large, byteCount: BufferCache.minimumBytes)
    }
}
