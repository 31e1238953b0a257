/// Shape arithmetic shared by every op: strides, broadcasting, axis normalisation.
enum Shape {
    /// Row-major strides of a contiguous tensor of `shape`.
    static func contiguousStrides(_ shape: [Int]) -> [Int] {
        var strides = [Int](repeating: 1, count: shape.count)
        var running = 1
        for i in stride(from: shape.count - 1, through: 0, by: -1) {
            strides[i] = running
            running *= shape[i]
        }
        return strides
    }

    static func count(_ shape: [Int]) -> Int { shape.reduce(1, *) }

    /// NumPy broadcasting of two shapes, or nil when they cannot broadcast.
    static func broadcast(_ a: [Int], _ b: [Int]) -> [Int]? {
        let n = max(a.count, b.count)
        var out = [Int](repeating: 1, count: n)
        for i in 0..<n {
            let da = i < n - a.count ? 1 : a[i - (n - a.count)]
            let db = i < n - b.count ? 1 : b[i - (n - b.count)]
            if da == db || db == 1 { out[i] = da } else if da == 1 { out[i] = db } else { return nil }
        }
        return out
    }

    /// Broadcasts shapes or stops with a message naming the op and the shapes.
    static func broadcast(_ shapes: [[Int]], op: String) -> [Int] {
        var out: [Int] = []
        for s in shapes {
            guard let b = broadcast(out, s) else {
                preconditionFailure("\(op): shapes \(shapes.map { "\($0)" }.joined(separator: ", ")) cannot broadcast")
            }
            out = b
        }
        return out
    }

    /// Maps a possibly negative axis into 0..<rank or stops naming the op.
    static func axis(_ axis: Int, rank: Int, op: String) -> Int {
        let a = axis < 0 ? axis + rank : axis
        precondition(a >= 0 && a < rank, "\(op): axis \(axis) out of range for rank \(rank)")
        return a
    }

    /// Sorted, de-duplicated, normalised axes; `nil` means all axes.
    static func axes(_ axes: [Int]?, rank: Int, op: String) -> [Int] {
        guard let axes else { return Array(0..<rank) }
        return Array(Set(axes.map { axis($0, rank: rank, op: op) })).sorted()
    }
}
