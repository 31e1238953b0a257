/// Creating tensors: constants, ranges, Swift arrays, and seeded random values.
extension Tensor {
    /// A contiguous tensor filled with `value`.
    public static func full(_ shape: [Int], value: Double, dtype: DType = .float32) -> Tensor {
        precondition(shape.allSatisfy { $0 >= 0 }, "full: negative dimension in shape \(shape)")
        let t = Tensor(uninitializedShape: shape, dtype: dtype)
        switch dtype {
        case .float32: t.pointer(Float.self).initialize(repeating: Float(value), count: t.count)
        case .float64: t.pointer(Double.self).initialize(repeating: value, count: t.count)
        }
        return t
    }

    public static func zeros(_ shape: [Int], dtype: DType = .float32) -> Tensor {
        precondition(shape.allSatisfy { $0 >= 0 }, "zeros: negative dimension in shape \(shape)")
        return Tensor(storage: .zeroed(count: Shape.count(shape), dtype: dtype), shape: shape,
                      strides: Shape.contiguousStrides(shape))
    }

    public static func ones(_ shape: [Int], dtype: DType = .float32) -> Tensor {
        full(shape, value: 1, dtype: dtype)
    }

    /// A 0-d tensor holding `value`.
    public static func scalar(_ value: Double, dtype: DType = .float32) -> Tensor {
        full([], value: value, dtype: dtype)
    }

    /// `[0, 1, …, end - 1]`.
    public static func arange(_ end: Double, dtype: DType = .float32) -> Tensor {
        arange(0, end, dtype: dtype)
    }

    /// `[start, start + step, …]` up to but excluding `end`.
    public static func arange(_ start: Double, _ end: Double, step: Double = 1, dtype: DType = .float32) -> Tensor {
        precondition(step != 0, "arange: step must be non-zero")
        let n = Swift.max(0, Int(((end - start) / step).rounded(.up)))
        return Tensor(shape: [n], generating: { start + Double($0) * step }, dtype: dtype)
    }

    /// A tensor of `shape` from row-major `values`.
    public convenience init(shape: [Int], _ values: [Double], dtype: DType = .float32) {
        precondition(Shape.count(shape) == values.count, "Tensor(shape:_:): \(values.count) values for shape \(shape)")
        self.init(uninitializedShape: shape, dtype: dtype)
        switch dtype {
        case .float32: for (i, v) in values.enumerated() { pointer(Float.self)[i] = Float(v) }
        case .float64: for (i, v) in values.enumerated() { pointer(Double.self)[i] = v }
        }
    }

    /// A tensor of `shape` from row-major `Float` values (dtype float32).
    public convenience init(shape: [Int], _ values: [Float]) {
        precondition(Shape.count(shape) == values.count, "Tensor(shape:_:): \(values.count) values for shape \(shape)")
        self.init(uninitializedShape: shape, dtype: .float32)
        values.withUnsafeBufferPointer { pointer(Float.self).update(from: $0.baseAddress!, count: values.count) }
    }

    /// A tensor whose element at row-major index `i` is `value(i)`.
    public convenience init(shape: [Int], generating value: (Int) -> Double, dtype: DType = .float32) {
        self.init(uninitializedShape: shape, dtype: dtype)
        switch dtype {
        case .float32: for i in 0..<count { pointer(Float.self)[i] = Float(value(i)) }
        case .float64: for i in 0..<count { pointer(Double.self)[i] = value(i) }
        }
    }

    /// Normal samples with the given mean and standard deviation, drawn in row-major order from `generator`.
    public static func randomNormal(_ shape: [Int], mean: Double = 0, standardDeviation: Double = 1,
                                    dtype: DType = .float32, generator: inout RandomGenerator) -> Tensor {
        var g = generator
        defer { generator = g }
        return Tensor(shape: shape, generating: { _ in mean + standardDeviation * g.nextNormal() }, dtype: dtype)
    }

    /// Uniform samples in `[low, high)`, drawn in row-major order from `generator`.
    public static func randomUniform(_ shape: [Int], low: Double = 0, high: Double = 1,
                                     dtype: DType = .float32, generator: inout RandomGenerator) -> Tensor {
        var g = generator
        defer { generator = g }
        return Tensor(shape: shape, generating: { _ in low + (high - low) * g.nextUniform() }, dtype: dtype)
    }

    public static func zeros(like t: Tensor) -> Tensor { zeros(t.shape, dtype: t.dtype) }
    public static func ones(like t: Tensor) -> Tensor { ones(t.shape, dtype: t.dtype) }
}
