import Foundation

/// Keeps freed large buffers for reuse by the next tensor of the same size. Fresh memory from the system
/// costs a page fault on first touch of every 4 KiB page, which for a large tensor costs about as much as
/// the op that fills it; training and inference allocate the same sizes step after step, so reuse is common.
/// Buffers under ``minimumBytes`` go straight to the system allocator, which already reuses small blocks.
enum BufferCache {
    static let minimumBytes = 1 << 16
    /// The most memory kept idle in the cache, a quarter of the memory this process may use (physical memory, or
    /// less under a cgroup's limit, as in a container); beyond it freed buffers go back to the system. A training step
    /// frees what the next one allocates again (3.4 GB for the MAG bench model at batch 4 × 512), and a cache smaller
    /// than that turns the difference into page faults every step.
    static let capacityBytes = Int(clamping: min(ProcessInfo.processInfo.physicalMemory, cgroupLimit ?? .max) / 4)

    /// The memory limit of this process's cgroup (v2 `memory.max`, v1 `memory.limit_in_bytes`), if one is set.
    static var cgroupLimit: UInt64? {
        guard let membership = try? String(contentsOfFile: "/proc/self/cgroup", encoding: .utf8) else { return nil }
        // The namespace's root too: inside a container the cgroup's own files are usually mounted there.
        var candidates = ["/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"]
        for line in membership.split(separator: "\n") {
            let fields = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false).map(String.init)
            guard fields.count == 3 else { continue }
            if fields[0] == "0" && fields[1].isEmpty { candidates.append("/sys/fs/cgroup\(fields[2])/memory.max") }
            if fields[1].split(separator: ",").contains("memory") {
                candidates.append("/sys/fs/cgroup/memory\(fields[2])/memory.limit_in_bytes")
            }
        }
        let limits = candidates.compactMap { path in
            (try? String(contentsOfFile: path, encoding: .utf8)).flatMap { UInt64($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        }
        return limits.min()  // "max" (no v2 limit) does not parse; v1's "no limit" is larger than any memory
    }

    /// Small buffers take the system allocator's own alignment: asking it for 64 bytes goes through its aligned path,
    /// which splits and frees a chunk per call (`_int_memalign`, then consolidation), about as slow as a small op itself.
    /// No kernel needs more (vector loads are unaligned; the built-in GEMM packs into buffers of its own).
    static let smallAlignment = 16

    private static let lock = NSLock()
    nonisolated(unsafe) private static var free: [Int: [UnsafeMutableRawPointer]] = [:]
    nonisolated(unsafe) private static var cachedBytes = 0

    /// Sizes are rounded up to whole pages so that nearby sizes share buffers.
    private static func rounded(_ bytes: Int) -> Int { (bytes + 4095) & ~4095 }

    static func allocate(byteCount: Int) -> UnsafeMutableRawPointer {
        guard byteCount >= minimumBytes else { return .allocate(byteCount: byteCount, alignment: smallAlignment) }
        let size = rounded(byteCount)
        lock.lock()
        if let pointer = free[size]?.popLast() {
            cachedBytes -= size
            lock.unlock()
            return pointer
        }
        lock.unlock()
        return .allocate(byteCount: size, alignment: 64)
    }

    static func deallocate(_ pointer: UnsafeMutableRawPointer, byteCount: Int) {
        guard byteCount >= minimumBytes else { return pointer.deallocate() }
        let size = rounded(byteCount)
        lock.lock()
        if cachedBytes + size <= capacityBytes {
            free[size, default: []].append(pointer)
            cachedBytes += size
            lock.unlock()
        } else {
            lock.unlock()
            pointer.deallocate()
        }
    }

    /// Returns every cached buffer to the system.
    static func clear() {
        lock.lock()
        let buffers = free.values.flatMap { $0 }
        free = [:]
        cachedBytes = 0
        lock.unlock()
        buffers.forEach { $0.deallocate() }
    }
}
